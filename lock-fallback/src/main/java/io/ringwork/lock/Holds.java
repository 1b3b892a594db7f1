package io.ringwork.lock;

import io.ringwork.membership.SessionLease;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The holding side of a lock service: its handles follow the session (SUSPENDED with the
 * connection, HELD again only if their node still exists in the same session, LOST otherwise),
 * learn of breaks and revoke requests through the service's mailbox, and are released here.
 *
 * <p>The mailbox is one persistent watch per service instead of one watch per held lock: whoever
 * breaks a lock or asks for it back pokes the holder's mailbox node, {@code
 * <group>/lock-mail/<member>}; the holder then checks all its holds in one round trip. A node
 * deleted by hand is noticed at the next reconnect or poke.
 */
final class Holds implements HandleHost {

  private static final Logger log = LoggerFactory.getLogger(Holds.class);

  private final LockCore core;
  private final LockCleanup cleanup;
  private final Upgrades upgrades;
  private final AtomicLong pokes = new AtomicLong();
  private final Watcher mailWatcher;

  Holds(LockCore core, LockCleanup cleanup, Upgrades upgrades) {
    this.core = core;
    this.cleanup = cleanup;
    this.upgrades = upgrades;
    this.mailWatcher =
        e -> {
          if (e.getType() != Watcher.Event.EventType.None) {
            pokes.incrementAndGet();
            core.submit(this::checkHolds);
          }
        };
  }

  /** How many times the mailbox was poked: a request compares it before and after its grant. */
  long pokes() {
    return pokes.get();
  }

  /** Watches the mailbox, retrying in the background until it is set or the service closes. */
  void watchMail() {
    if (core.lifecycle.isClosed()) {
      return;
    }
    try {
      core.client
          .watchers()
          .add()
          .withMode(AddWatchMode.PERSISTENT)
          .usingWatcher(mailWatcher)
          .forPath(core.paths.lockMail(core.selfId));
    } catch (Exception e) {
      log.warn("could not watch {}; retrying: {}", core.paths.lockMail(core.selfId), e.toString());
      try {
        core.schedule(this::watchMail, 200);
      } catch (RejectedExecutionException closed) {
        // closing
      }
    }
  }

  /** Reads every hold in one round trip: a deleted node is lost, a revoke request is passed on. */
  void checkHolds() {
    List<LockHandle> held = new ArrayList<>();
    for (LockHandle h : core.active) {
      LockState st = h.state();
      if (st == LockState.HELD || st == LockState.SUSPENDED) {
        held.add(h);
      }
    }
    if (held.isEmpty()) {
      return;
    }
    List<Op> reads = new ArrayList<>(held.size());
    for (LockHandle h : held) {
      reads.add(Op.getData(core.fix(h.path())));
    }
    List<OpResult> results;
    try {
      results = core.zk().multi(reads); // one round trip for every hold
    } catch (Exception e) {
      log.debug("could not check the holds of {}: {}", core.selfId, e.toString());
      return; // the reconnect or the next poke checks again
    }
    for (int i = 0; i < held.size(); i++) {
      checked(held.get(i), results.get(i));
    }
  }

  private static void checked(LockHandle h, OpResult r) {
    if (r instanceof OpResult.GetDataResult d) {
      try {
        LockData data = LockData.decode(h.path(), d.getData());
        if (data.revokeBy() != null) {
          h.revokeRequested(data.revokeAt());
        }
      } catch (IllegalArgumentException e) {
        log.warn("{}", e.getMessage());
      }
    } else if (r instanceof OpResult.ErrorResult err
        && err.getErr() == KeeperException.Code.NONODE.intValue()) {
      h.lose("its node was deleted: broken by force");
    }
  }

  /** Follows the connection (on the event thread). */
  void stateChanged(ConnectionState s) {
    switch (s) {
      case SUSPENDED -> core.active.forEach(LockHandle::suspend);
      case LOST -> {
        for (LockHandle h : core.active) {
          h.lose("the ZooKeeper session was lost");
        }
        // Requests waiting on watches of the dead session would sleep until their timeouts:
        // wake them; each sees its session gone and fails, naming it.
        core.waiting.forEach(CountDownLatch::countDown);
      }
      case RECONNECTED, CONNECTED -> {
        if (core.lifecycle.isClosed()) {
          return;
        }
        watchMail(); // a new session has no watches; the same session keeps it (no harm)
        for (LockHandle h : core.active) {
          if (h.state() == LockState.SUSPENDED) {
            verify(h);
          }
        }
        checkHolds(); // a break or a revoke request may have come while we were away
      }
      default -> {}
    }
  }

  /** After a reconnect: HELD again only if the node still exists in the same session. */
  private void verify(LockHandle h) {
    try {
      long session = core.zk().getSessionId();
      Stat stat = core.client.checkExists().forPath(h.path());
      if (stat != null && stat.getEphemeralOwner() == h.session() && session == h.session()) {
        h.resume();
      } else {
        h.lose(
            stat == null
                ? "its node is gone after a reconnect"
                : "the session was replaced during the disconnection");
      }
    } catch (Exception e) {
      log.debug("could not verify {}: {}", h.path(), e.toString());
    }
  }

  /** Returns whether a request id is one of this service's own live requests. */
  boolean ownRequest(String requestId) {
    for (LockHandle h : core.active) {
      if (h.requestId().equals(requestId)) {
        return true;
      }
    }
    return false;
  }

  /** Gives up a request that was not granted: its node, if any, goes. */
  void abandon(LockHandle h) {
    h.release(); // an interrupted delete falls back to the background one
    if (h.path() == null && h.attemptedPrefix() != null) {
      // A create whose reply never came may still have made a node: find it by its request id.
      cleanup.deleteByPrefixLater(h.queue(), h.attemptedPrefix(), 0);
    }
  }

  // ---------------------------------------------------------------- HandleHost

  @Override
  public SessionLease lease() {
    return core.lease();
  }

  @Override
  public void runGuarded(Runnable call, String what, String key) {
    core.runGuarded(call, what, key);
  }

  @Override
  public void lostHold(LockHandle h) {
    core.metrics.lost.inc();
    core.active.remove(h);
  }

  @Override
  public ReleaseOutcome released(LockHandle h, LockState before) {
    core.active.remove(h);
    if (before == LockState.LOST) {
      return ReleaseOutcome.ALREADY_LOST;
    }
    String path = h.path();
    if (path == null) {
      return ReleaseOutcome.RELEASED;
    }
    try {
      ZooKeeper zk = core.zk();
      if (zk.getSessionId() != h.session()) {
        return ReleaseOutcome.ALREADY_LOST; // its node went, or goes, with its session
      }
      if (!core.client.getZookeeperClient().isConnected()) {
        cleanup.deleteLater(h, 0);
        return ReleaseOutcome.PENDING;
      }
      cleanup.deleteNow(zk, h);
      return ReleaseOutcome.RELEASED;
    } catch (KeeperException.NoNodeException e) {
      return ReleaseOutcome.RELEASED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cleanup.deleteLater(h, 0);
      return ReleaseOutcome.PENDING;
    } catch (Exception e) {
      cleanup.deleteLater(h, 0);
      return ReleaseOutcome.PENDING;
    }
  }

  @Override
  public void upgrade(LockHandle h, Duration timeout) throws LockException, InterruptedException {
    upgrades.upgrade(h, timeout);
  }

  @Override
  public void downgrade(LockHandle h, LockMode target) {
    upgrades.downgrade(h, target);
  }
}
