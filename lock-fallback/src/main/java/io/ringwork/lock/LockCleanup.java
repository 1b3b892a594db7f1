package io.ringwork.lock;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes lock nodes: a handle's own node (with its upgrade node) in its own session only, now or
 * in the background, and, by request id, nodes whose create's reply never came.
 */
final class LockCleanup {

  private static final Logger log = LoggerFactory.getLogger(LockCleanup.class);

  private final LockCore core;

  LockCleanup(LockCore core) {
    this.core = core;
  }

  /** One attempt, no retries: the upgrade node and its base together. */
  void deleteNow(ZooKeeper zk, LockHandle h) throws KeeperException, InterruptedException {
    String upgrade = h.upgradePath();
    if (upgrade != null) {
      try {
        zk.multi(List.of(Op.delete(core.fix(upgrade), -1), Op.delete(core.fix(h.path()), -1)));
        return;
      } catch (KeeperException.NoNodeException e) {
        // one of them is gone already: delete the other alone
      }
      try {
        zk.delete(core.fix(upgrade), -1);
      } catch (KeeperException.NoNodeException e) {
        // gone
      }
    }
    zk.delete(core.fix(h.path()), -1);
  }

  /** Deletes the handle's node in the background, in its own session only. */
  void deleteLater(LockHandle h, int attempt) {
    Runnable task =
        () -> {
          try {
            ZooKeeper zk = core.zk();
            if (zk.getSessionId() != h.session()) {
              return; // the session is gone: so is the node, or it will be
            }
            deleteNow(zk, h);
          } catch (KeeperException.NoNodeException e) {
            // done
          } catch (Exception e) {
            if (attempt < 600 && !core.events.isShutdown()) {
              deleteLater(h, attempt + 1);
            } else {
              log.warn("gave up deleting lock node {}: {}", h.path(), e.toString());
            }
          }
        };
    try {
      if (attempt == 0) {
        core.events.execute(task);
      } else {
        core.events.schedule(task, Math.min(1000, 10L * attempt), TimeUnit.MILLISECONDS);
      }
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  /** Deletes, in the background, every child of a queue whose name starts with an id of ours. */
  void deleteByPrefixLater(String queue, String prefix, int attempt) {
    Runnable task =
        () -> {
          try {
            for (String child : core.client.getChildren().forPath(queue)) {
              if (child.startsWith(prefix)) {
                core.client.delete().quietly().forPath(queue + "/" + child);
              }
            }
          } catch (KeeperException.NoNodeException e) {
            // the queue is gone, and with it anything of ours
          } catch (Exception e) {
            if (attempt < 300 && !core.events.isShutdown()) {
              deleteByPrefixLater(queue, prefix, attempt + 1);
            } else {
              log.warn(
                  "gave up looking for lock nodes {}* under {}: {}", prefix, queue, e.toString());
            }
          }
        };
    try {
      core.events.schedule(
          task, attempt == 0 ? 0 : Math.min(1000, 10L * attempt), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }
}
