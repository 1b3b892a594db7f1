package io.ringwork.rebalancer;

import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.PartitionGuards;
import io.ringwork.lock.internal.OwnerSide;
import io.ringwork.membership.SessionLease;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.rebalancer.Rebalancer.State;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@link Rebalancer} leaves: a drain's wait, and, once its lifecycle is closed, the close:
 * the event thread's part first (every grant stopped, guards drained and {@code onRevoked} run,
 * each up to the revoke deadline, and only then the acknowledgement withdrawn), then the lock
 * service, the session lease, the membership session, the threads and the metrics. When the event
 * thread is stuck past its budget, the closing thread withdraws the acknowledgement and ends the
 * reservation itself, so that a caller's client that outlives the rebalancer is not left blocking
 * every barrier. Closed from a listener callback, it stops the grants and the fast path at once and
 * finishes on a thread of its own.
 */
final class Shutdown {

  // Under the facade's name, which is what users configure.
  private static final Logger log = LoggerFactory.getLogger(Rebalancer.class);

  private final String selfId;
  private final GroupSession session;
  private final EventLoop loop;
  private final HandoffDriver driver;
  private final RebalancerMetrics metrics;
  private final Supplier<KeyLocks> locks;
  private final Runnable leaseBegins;
  // Completed at the very end: grants stopped, onRevoked run, the acknowledgement withdrawn, the
  // locks closed and the group left (a RingworkClient waits for it before it ends the session the
  // ring lives in).
  private final CompletableFuture<Void> finished = new CompletableFuture<>();
  private volatile boolean calledFromCallback;

  /** {@code locks} gives the lock service once started (null before); see {@link Startup}. */
  Shutdown(
      GroupSession session,
      EventLoop loop,
      HandoffDriver driver,
      RebalancerMetrics metrics,
      Supplier<KeyLocks> locks,
      Runnable leaseBegins) {
    this.selfId = session.selfId();
    this.session = session;
    this.loop = loop;
    this.driver = driver;
    this.metrics = metrics;
    this.locks = locks;
    this.leaseBegins = leaseBegins;
  }

  /**
   * Closes from a listener callback, which cannot wait for its own callbacks: no grant shows and no
   * fast-path guard opens from now on, and the rest runs on a thread of its own.
   */
  void fromCallback() {
    driver.ownership = Ownership.NONE;
    calledFromCallback = true;
    PartitionGuards g = driver.guards;
    if (g != null) {
      OwnerSide.update(g, new long[0], false, 0, Duration.ZERO); // no fast path from now on
    }
    DaemonThreads.start("ringwork-close-" + selfId, this::run);
  }

  /**
   * Waits up to {@code timeout} for this member's drain to complete (the group has acknowledged a
   * state that gives it nothing); false, and at once, when its session is lost: a lost session
   * holds nothing to hand over, its partitions move once ZooKeeper has ended it, and waiting for a
   * handoff it cannot take part in would only delay the exit.
   */
  boolean awaitDrained(Duration timeout) throws InterruptedException {
    AtomicBoolean lost = new AtomicBoolean();
    return loop.waitFor(
            () -> {
              lost.set(driver.lostSession); // read on the event thread, which owns it
              return lost.get() || driver.drainedNow();
            },
            timeout)
        && !lost.get();
  }

  /** Runs every step on the calling thread, then completes {@link #finished()}. */
  void run() {
    try {
      steps();
    } finally {
      finished.complete(null);
    }
  }

  /** Completes once the shutdown has fully finished, or at once after a crash. */
  CompletableFuture<Void> finished() {
    return finished;
  }

  /**
   * An upper bound on how long a close takes: the guards in flight (a close from a callback), the
   * event thread's part (draining guards and onRevoked, each up to the revoke deadline, plus 5 s),
   * then closing the locks and leaving the group (10 s here, for ZooKeeper round trips).
   */
  Duration budget() {
    return driver.revokeDeadline.multipliedBy(3).plusSeconds(15);
  }

  private void steps() {
    PartitionGuards open = driver.guards;
    if (open != null && calledFromCallback) {
      // close() from a callback stopped the fast path without waiting: wait for the guards in
      // flight now, before the acknowledgement that lets a successor in is withdrawn.
      open.awaitGuardsClosed(driver.revokeDeadline);
    }
    try {
      loop.submitClosing(driver::closeOnEventThread)
          // The task drains guards and runs onRevoked, each up to the revoke deadline.
          .get(2 * driver.revokeDeadline.toMillis() + 5000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
      log.warn("rebalancer {} did not close cleanly", selfId, e);
      // The event thread is stuck (or gone) before its withdraw: withdraw from here, or on a
      // caller's client the acknowledgement would block every barrier for the session's life.
      driver.handoff.withdraw(session.sessionId());
      // A leave for good ends the reservation from here too (a no-op if the task got that far, or
      // when leaving for a restart); otherwise the partitions would stay unowned for the grace.
      driver.fleet.leave(session.incarnation());
      driver.fleet.close();
    }
    // Normally done on the event thread above (this finds the set empty). If that thread was stuck,
    // empty the set from here, so that standbyPartitions() is empty after close, and tell the
    // listener on its own thread; close() also keeps a stuck task from installing standbys later.
    driver.standbysClosed();
    driver.ownership = Ownership.NONE;
    driver.state = State.CLOSED;
    KeyLocks l = locks.get();
    if (l != null) {
      l.close();
    }
    SessionLease sl = driver.lease;
    if (sl != null) {
      sl.removeListener(leaseBegins);
      sl.release();
    }
    session.close();
    loop.shutdown();
    metrics.close();
    loop.wakeWaiters();
  }
}
