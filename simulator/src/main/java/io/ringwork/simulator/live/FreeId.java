package io.ringwork.simulator.live;

import io.ringwork.membership.GroupPaths;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.RuntimeFailure;
import io.ringwork.simulator.cli.ZooKeeperClients;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.data.Stat;

/**
 * {@code agent --wait-for-id}: waits until no live session holds a member id, so that an agent
 * restarted at once after {@code kill -9} joins when its old session expires instead of failing.
 * Woken by a watch on the member node, not by polling.
 */
final class FreeId {

  private FreeId() {}

  /**
   * Returns once {@code <namespace>/<group>/members/<id>} does not exist.
   *
   * @throws InputException if the namespace, group or id is malformed
   * @throws RuntimeFailure if the id is still held after {@code wait}, naming the session
   */
  static void await(
      String connect, String namespace, String group, String id, Duration wait, PrintWriter err)
      throws Exception {
    String path;
    try {
      path = GroupPaths.of(namespace, group).member(id);
    } catch (IllegalArgumentException e) {
      throw new InputException("--group/--id: " + e.getMessage());
    }
    if (wait.isNegative()) {
      throw new InputException("--wait-for-id must not be negative, got " + wait);
    }
    long deadline = System.nanoTime() + wait.toNanos();
    try (CuratorFramework client =
        ZooKeeperClients.connect(connect, null, 10_000, Math.max(1_000, wait.toMillis()))) {
      boolean said = false;
      while (true) {
        CountDownLatch changed = new CountDownLatch(1);
        CuratorWatcher watcher = event -> changed.countDown();
        Stat stat = client.checkExists().usingWatcher(watcher).forPath(path);
        if (stat == null) {
          return;
        }
        String holder = "0x" + Long.toHexString(stat.getEphemeralOwner());
        if (!said) {
          err.println(
              "ringwork: member id '"
                  + id
                  + "' is held by session "
                  + holder
                  + " at "
                  + path
                  + "; waiting up to "
                  + wait.toMillis() / 1000.0
                  + " s for it to end (--wait-for-id)");
          err.flush();
          said = true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || !changed.await(left, TimeUnit.NANOSECONDS)) {
          throw new RuntimeFailure(
              "member id '"
                  + id
                  + "' is still held by session "
                  + holder
                  + " at "
                  + path
                  + " after --wait-for-id "
                  + wait.toMillis() / 1000.0
                  + " s");
        }
      }
    }
  }
}
