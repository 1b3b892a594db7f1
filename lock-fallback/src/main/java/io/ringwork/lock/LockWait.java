package io.ringwork.lock;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one wait primitive of the lock service (Curator's {@code LockInternals} waits the same way):
 * a watch on what a request waits for, which wakes it, and is removed from the server if it never
 * fired. A lost session wakes every wait ({@link LockCore#waiting}): the waiter then sees its
 * session gone and fails, naming it.
 */
final class LockWait implements CuratorWatcher {

  private static final Logger log = LoggerFactory.getLogger(LockWait.class);

  private final LockCore core;
  private final long session;
  private final CountDownLatch latch = new CountDownLatch(1);
  private volatile boolean fired;

  /** The watched path, or null when nothing is watched. */
  String path;

  /**
   * @param session the session of the request that waits: a wait begun after it ended returns at
   *     once
   */
  LockWait(LockCore core, long session) {
    this.core = core;
    this.session = session;
  }

  @Override
  public void process(WatchedEvent e) {
    if (e.getType() != Watcher.Event.EventType.None) {
      fired = true;
      latch.countDown();
    }
  }

  /**
   * Waits until the watch fires, the session is lost or the deadline (of {@link LockCore#nanoTime})
   * passes.
   *
   * @return false when the deadline passed
   */
  boolean await(long deadline) throws InterruptedException {
    long left = deadline - core.nanoTime.getAsLong();
    if (left <= 0) {
      return false;
    }
    core.waiting.add(latch);
    try {
      // The session may have ended before the latch was added, and the wake-up of waits on its
      // loss gone by. Curator replaces the handle before it reports LOST, so either the handle
      // here is no longer the request's session, or the latch is in place when LOST wakes it.
      if (core.sessionIdOrZero() != session) {
        return true;
      }
      return latch.await(left, TimeUnit.NANOSECONDS);
    } finally {
      core.waiting.remove(latch);
    }
  }

  /** Removes the watch from the server unless it fired. */
  void remove() {
    if (path != null && !fired) {
      try {
        core.client
            .watchers()
            .remove(this)
            .ofType(Watcher.WatcherType.Any)
            .quietly()
            .inBackground()
            .forPath(path);
      } catch (Exception e) {
        log.debug("could not remove a watch on {}: {}", path, e.toString());
      }
    }
    path = null;
  }
}
