package io.ringwork.lock;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upgrades and downgrades of held locks. An upgrade creates an upgrade node that stands at its
 * base's place as EXCLUSIVE ({@link LockQueue} has the rules) and waits until no one else holds the
 * key; a downgrade rewrites the mode in the node's data (never its name), or drops the upgrade
 * node, and asks the server what it holds when a reply is lost.
 */
final class Upgrades {

  private static final Logger log = LoggerFactory.getLogger(Upgrades.class);

  private final LockCore core;
  private final LockCleanup cleanup;

  Upgrades(LockCore core, LockCleanup cleanup) {
    this.core = core;
    this.cleanup = cleanup;
  }

  void upgrade(LockHandle h, Duration timeout) throws LockException, InterruptedException {
    h.ensureValid();
    if (h.mode() == LockMode.EXCLUSIVE) {
      throw new IllegalStateException(LockKeys.shown(h.key()) + " is held EXCLUSIVE already");
    }
    boolean failFast = h.mode() == LockMode.SHARED || timeout.isZero();
    long deadline = core.nanoTime.getAsLong() + timeout.toNanos();
    String upgradePrefix = LockNode.upgradePrefix(h.requestId(), LockCore.newRequestId());
    String upgradePath = createUpgradeNode(h, upgradePrefix);
    boolean done = false;
    LockWait wait = null;
    try {
      while (true) {
        wait = new LockWait(core, h.session());
        LockQueue q = core.list(h.queue(), null);
        LockNode base = q.request(h.requestId());
        if (base == null) {
          throw new LockLostException(
              "lock on " + LockKeys.shown(h.key()) + " was lost during its upgrade");
        }
        LockNode blocker = q.upgradeBlocker(base, realModes(q, h.queue()));
        if (blocker == null) {
          h.upgraded(upgradePath);
          done = true;
          return;
        }
        awaitBlocker(h, blocker, wait, failFast, timeout, deadline);
      }
    } catch (LockException | RuntimeException | InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("upgrade of " + LockKeys.shown(h.key()) + " failed: " + e, e);
    } finally {
      if (wait != null) {
        wait.remove();
      }
      if (!done) {
        try {
          core.client.delete().quietly().forPath(upgradePath);
        } catch (Exception e) {
          log.debug("could not delete upgrade node {}: {}", upgradePath, e.toString());
          cleanup.deleteByPrefixLater(h.queue(), upgradePrefix, 0);
        }
      }
    }
  }

  private String createUpgradeNode(LockHandle h, String upgradePrefix) throws InterruptedException {
    try {
      return core.unfix(
          core.zk()
              .create(
                  core.fix(h.queue() + "/" + upgradePrefix),
                  new byte[0],
                  ZooDefs.Ids.OPEN_ACL_UNSAFE,
                  CreateMode.EPHEMERAL_SEQUENTIAL));
    } catch (KeeperException | InterruptedException e) {
      // The create may have happened without its reply: an upgrade node left behind would stand
      // in our place as EXCLUSIVE, so find it by its id and delete it.
      cleanup.deleteByPrefixLater(h.queue(), upgradePrefix, 0);
      if (e instanceof InterruptedException) {
        throw (InterruptedException) e;
      }
      throw new IllegalStateException(
          "could not request an upgrade of " + LockKeys.shown(h.key()) + ": " + e, e);
    }
  }

  /**
   * Waits for what keeps an upgrade from being granted, or fails at once (from SHARED, or with no
   * timeout); returns to list again when it is gone or has changed.
   */
  private void awaitBlocker(
      LockHandle h,
      LockNode blocker,
      LockWait wait,
      boolean failFast,
      Duration timeout,
      long deadline)
      throws Exception {
    wait.path = h.queue() + "/" + blocker.name();
    boolean request = blocker.kind() == LockNode.Kind.REQUEST;
    LockData data = request ? core.readData(wait.path, wait) : null;
    String who =
        data != null
            ? LockCore.describe(blocker, data)
            : "another upgrade (" + blocker.name() + ")";
    if (failFast) {
      throw new UpgradeConflictException(
          "cannot upgrade " + LockKeys.shown(h.key()) + " to exclusive now: in the way is " + who,
          who);
    }
    if (request && data == null) {
      return; // gone: list again
    }
    if (!request && core.client.checkExists().usingWatcher(wait).forPath(wait.path) == null) {
      return; // gone: list again (the exists watch is removed in finally)
    }
    if (!wait.await(deadline)) {
      throw new LockTimeoutException(
          "upgrade of "
              + LockKeys.shown(h.key())
              + " not granted within "
              + timeout
              + ": waiting for "
              + who,
          who);
    }
  }

  /** The real modes of requests named X or U: a downgrade may have lowered them. */
  private Map<String, LockMode> realModes(LockQueue q, String queue) {
    Map<String, LockMode> modes = new HashMap<>();
    for (LockNode n : q.requests()) {
      if (n.mode() == LockMode.SHARED) {
        continue;
      }
      try {
        byte[] data = core.client.getData().forPath(queue + "/" + n.name());
        modes.put(n.name(), LockData.decode(queue + "/" + n.name(), data).mode());
      } catch (KeeperException.NoNodeException e) {
        // gone: the listing is a little stale, which only makes us wait
      } catch (IllegalArgumentException e) {
        log.warn("{}", e.getMessage());
      } catch (Exception e) {
        throw new IllegalStateException("could not read " + queue + "/" + n.name() + ": " + e, e);
      }
    }
    return modes;
  }

  void downgrade(LockHandle h, LockMode target) {
    h.ensureValid();
    LockMode now = h.mode();
    if (now != LockMode.EXCLUSIVE || target == LockMode.EXCLUSIVE) {
      throw new IllegalArgumentException(
          "a downgrade goes from exclusive to shared or upgradable; "
              + LockKeys.shown(h.key())
              + " is held "
              + now.wireName()
              + " and the target is "
              + target.wireName());
    }
    String upgrade = h.upgradePath();
    // Upgraded: dropping the upgrade node returns to the base's mode.
    boolean dropUpgradeOnly = upgrade != null && target == h.baseMode();
    if (upgrade != null && !dropUpgradeOnly && target != LockMode.SHARED) {
      throw new IllegalArgumentException(
          "a hold upgraded from shared downgrades to shared only: raising its base to"
              + " upgradable could make two upgradable holders of "
              + LockKeys.shown(h.key()));
    }
    for (int attempt = 1; ; attempt++) {
      try {
        if (dropUpgradeOnly) {
          core.client.delete().forPath(upgrade);
        } else {
          rewriteMode(h, target, upgrade);
        }
        h.downgraded(target);
        return;
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        // The write may have been applied with its reply lost: Curator's retry of it then fails
        // (BadVersion, or NoNode for the upgrade node). Ask the server what it holds now.
        Boolean applied = e instanceof InterruptedException ? null : downgradeApplied(h, target);
        if (Boolean.TRUE.equals(applied)) {
          h.downgraded(target);
          return;
        }
        if (applied == null) {
          // Unknown: claim the lower mode, which is never more than the server grants us.
          h.downgraded(target);
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          throw new IllegalStateException(
              "downgrade of "
                  + LockKeys.shown(h.key())
                  + " may not have reached the server ("
                  + e
                  + "): the handle holds "
                  + target.wireName()
                  + " from now on, the server may still hold it exclusive until release",
              e);
        }
        // Not applied (e.g. a revoke request rewrote our node meanwhile): write again.
        if (attempt >= 3) {
          throw new IllegalStateException(
              "downgrade of " + LockKeys.shown(h.key()) + " failed: " + e, e);
        }
      }
    }
  }

  /**
   * Reads in the handle's session whether the server holds {@code h} at {@code target} (its node
   * says so and its upgrade node, if any, is gone); null when it cannot tell.
   */
  private Boolean downgradeApplied(LockHandle h, LockMode target) {
    try {
      Stat stat = new Stat();
      byte[] raw = core.client.getData().storingStatIn(stat).forPath(h.path());
      String upgrade = h.upgradePath();
      return stat.getEphemeralOwner() == h.session()
          && LockData.decode(h.path(), raw).mode() == target
          && (upgrade == null || core.client.checkExists().forPath(upgrade) == null);
    } catch (KeeperException.NoNodeException e) {
      return false; // our node is gone: the hold is lost, and the session follower says so
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      log.debug("could not read back the downgrade of {}: {}", h.path(), e.toString());
      return null;
    }
  }

  private void rewriteMode(LockHandle h, LockMode target, String alsoDelete) throws Exception {
    Stat stat = new Stat();
    byte[] raw = core.client.getData().storingStatIn(stat).forPath(h.path());
    byte[] next = LockData.decode(h.path(), raw).withMode(target).encode();
    if (alsoDelete == null) {
      core.client.setData().withVersion(stat.getVersion()).forPath(h.path(), next);
    } else {
      core.client
          .transaction()
          .forOperations(
              core.client
                  .transactionOp()
                  .setData()
                  .withVersion(stat.getVersion())
                  .forPath(h.path(), next),
              core.client.transactionOp().delete().forPath(alsoDelete));
    }
  }
}
