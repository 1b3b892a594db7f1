package io.ringwork.rebalancer;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.lock.AlreadyHeldException;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.lock.PartitionGuards;
import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.Lifecycle;
import io.ringwork.membership.SessionLease;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns live group membership into exclusive, fenced ownership of partitions: what a conductor,
 * agent or engine embeds.
 *
 * <h2>Design</h2>
 *
 * <p>A member acts on a partition only while it holds an active grant, which needs three things:
 * the state in force names it primary; the group's leader has written a barrier saying that every
 * live worker has acknowledged that state (so whoever held the partition before has run {@code
 * onRevoked} and stopped, or its session is gone); and this member's session is connected. The
 * barrier's zxid is the grant's fencing token. {@link Handoff} has the protocol and the argument
 * for why it keeps one active grant per partition at O(N) ZooKeeper operations per change.
 *
 * <p>What varies by strategy is a {@link Mode}: {@link CoordinatedMode} ({@code balanced}: the
 * leader publishes sticky tables through {@link AssignmentStore}), {@link LeaderlessMode} ({@code
 * rendezvous}: every worker computes the table from its view) and {@link ToozMode} (tooz's rings,
 * key by key). Partitions that do not move are never paused.
 *
 * <p>All state changes happen on one event thread; queries read one volatile {@link Ownership}
 * snapshot. Listener callbacks run on a second thread, the listener thread, so that a slow {@code
 * onRevoked} can be given up on at its deadline. {@link #close()} and {@link #drain(Duration)}
 * called from a callback do not wait for that callback: they stop the grants at once and finish in
 * the background. {@link Startup} is the order in which a rebalancer starts its parts, {@link
 * Shutdown} how it leaves.
 */
public final class Rebalancer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Rebalancer.class);

  static {
    RebalancerInternals.install(
        Rebalancer::curator); // other modules' way in, with no public method
  }

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  /** Where a rebalancer stands, for health checks. */
  public enum State {
    /** Not started yet. */
    LATENT,
    /** Started; no state applied, or a handoff of this member is under way. */
    REBALANCING,
    /** Every grant this member should hold is active and the group agrees on the state in force. */
    STABLE,
    /** The connection is suspended: grants are paused. */
    SUSPENDED,
    /** The session ended: every grant is gone until this member rejoins. */
    LOST,
    /** Handing its work over before leaving. */
    DRAINING,
    /** Closed. */
    CLOSED
  }

  private final GroupSession session;
  private final String selfId;
  private final Duration restartGrace;
  private final Standbys standbys;
  private final Lifecycle lifecycle = new Lifecycle();
  private final EventLoop loop;
  private final RebalancerMetrics metrics;
  private final HandoffDriver driver;
  private final Startup startup;
  private final Shutdown shutdown;
  private volatile KeyLocks locks;

  Rebalancer(RebalancerBuilder b, GroupSession session) {
    this.session = session;
    this.selfId = session.selfId();
    this.restartGrace = b.restartGrace();
    this.standbys = new Standbys(selfId);
    int n = INSTANCES.incrementAndGet();
    this.loop =
        new EventLoop(
            "ringwork-rebalancer-" + b.group() + "-" + selfId + "-" + n, selfId, lifecycle);
    MetricRegistry registry = b.metrics();
    this.metrics =
        new RebalancerMetrics(
            registry, b.group(), selfId, this::ownership, () -> standbys.current().size());
    this.driver =
        new HandoffDriver(
            b,
            session,
            new ZooKeeperHandoffStore(
                session.client(), session.paths(), selfId, b.routerOrDefault()),
            loop,
            lifecycle,
            new GuardedListener(b.listener(), selfId),
            standbys,
            metrics);
    // A lease that begins (a new session's, or one renewed after it lapsed) may make this member
    // stable: look again on the event thread.
    Runnable leaseBegins = driver::recheckState;
    this.startup = new Startup(b, registry, session, driver, leaseBegins);
    this.shutdown = new Shutdown(session, loop, driver, metrics, () -> locks, leaseBegins);
  }

  /** The snapshot readers see. */
  private Ownership ownership() {
    // The metrics are built before the driver; a reporter polling in between sees no grants.
    HandoffDriver d = driver;
    return d == null ? Ownership.NONE : d.ownership;
  }

  /** Returns a new builder. */
  public static RebalancerBuilder newBuilder() {
    return new RebalancerBuilder();
  }

  /**
   * Joins the group and starts taking ownership.
   *
   * @throws IllegalStateException if already started or closed, if ZooKeeper cannot be reached
   *     within the connect timeout, if a live member already holds this id, or if the group's
   *     stored settings differ from this member's
   */
  public void start() {
    lifecycle.start();
    driver.state = State.REBALANCING;
    try {
      startup.run(started -> locks = started);
    } catch (GroupAccessException e) {
      close();
      Throwable cause = e.getCause();
      throw new IllegalStateException(
          "could not start the rebalancer: " + cause.getMessage(), cause);
    } catch (RuntimeException e) {
      close();
      throw e;
    } catch (Exception e) {
      close();
      throw new IllegalStateException("could not start the rebalancer: " + e.getMessage(), e);
    }
  }

  /**
   * Returns the active grant for a key, or empty when this member may not act on it now.
   *
   * @throws IllegalStateException if not started
   */
  public Optional<Grant> grant(String key) {
    Ownership o = ownership();
    if (o == Ownership.NONE) {
      requireStarted("grant");
      return Optional.empty();
    }
    long until = driver.leaseEnd(o);
    return until == Long.MIN_VALUE ? Optional.empty() : o.grant(key, until);
  }

  /**
   * Returns the active grant for a partition, or empty.
   *
   * @throws IllegalStateException if not started
   */
  public Optional<Grant> grant(int partition) {
    Ownership o = ownership();
    if (o == Ownership.NONE) {
      requireStarted("grant");
      return Optional.empty();
    }
    long token = o.token(partition);
    long until = token == 0 ? Long.MIN_VALUE : driver.leaseEnd(o);
    return until == Long.MIN_VALUE
        ? Optional.empty()
        : Optional.of(new Grant(partition, token, o.version(), until, o.session()));
  }

  /** Returns the owners of a key in the state in force, primary first; empty before one. */
  public List<Member> owners(String key) {
    return ownership().owners(key);
  }

  /** Returns the partitions this member holds an active grant for, ascending. */
  public Set<Integer> ownedPartitions() {
    Ownership o = ownership();
    Set<Integer> owned = new TreeSet<>();
    if (!(o instanceof Ownership.Partitioned table)
        || o.paused()
        || driver.leaseEnd(o) == Long.MIN_VALUE) {
      return owned;
    }
    for (int p = 0; p < table.tokens().length; p++) {
      if (table.tokens()[p] != 0) {
        owned.add(p);
      }
    }
    return Collections.unmodifiableSet(owned);
  }

  /**
   * Returns the partitions this member is a standby of in the assignment in force (rank 2 and up,
   * with {@code replicas > 1}), ascending: it may prefetch them read-only, and holds no grant for
   * them (see {@link OwnershipListener#onStandby(Set)}). Empty with one replica, in tooz mode, and
   * once {@link #close()} has returned (or, closed from a callback, once it has finished in the
   * background): also when the event thread was stuck past the close budget, in which case {@link
   * OwnershipListener#onStandbyRevoked(Set)} is queued from the closing thread instead (it runs
   * unless the listener thread itself is stuck).
   */
  public Set<Integer> standbyPartitions() {
    return standbys.current();
  }

  /** Returns the assignment in force, if one has been applied (never in tooz mode). */
  public Optional<Assignment> assignment() {
    return ownership() instanceof Ownership.Partitioned table
        ? Optional.ofNullable(table.assignment())
        : Optional.empty();
  }

  /** Returns whether the connection is suspended, which pauses every grant. */
  public boolean isSuspended() {
    Ownership o = ownership();
    return o.paused() || (o.activeCount() > 0 && driver.leaseEnd(o) == Long.MIN_VALUE);
  }

  /**
   * Returns where this rebalancer stands: the basis of a health check. A member whose session lease
   * has ended while it holds grants is SUSPENDED here at once, even before the event that announces
   * it has been processed.
   */
  public State state() {
    State s = driver.state;
    if (s == State.STABLE || s == State.REBALANCING) {
      Ownership o = ownership();
      if (o.session() != 0 && driver.leaseEnd(o) == Long.MIN_VALUE) {
        return State.SUSPENDED;
      }
    }
    return s;
  }

  /**
   * Returns the nanoseconds for which the grants read now stay valid without being read again (the
   * session lease left), 0 when this member holds none that may be used.
   */
  public long leaseRemainingNanos() {
    Ownership o = ownership();
    long until = driver.leaseEnd(o);
    return until == Long.MIN_VALUE ? 0 : Math.max(0, until - System.nanoTime());
  }

  /**
   * Returns the Curator client this rebalancer uses; do not close it or write through it.
   * Ringwork's other modules reach it through {@link RebalancerInternals#curator}.
   */
  CuratorFramework curator() {
    return session.client();
  }

  /** Returns the ZooKeeper connect string in use (the embedded server's, when embedded). */
  public String connectString() {
    return session.client().getZookeeperClient().getCurrentConnectionString();
  }

  /** Returns this member's id. */
  public String memberId() {
    return selfId;
  }

  /**
   * Guards a key for a block of work, waiting up to 30 seconds when it needs a lock. See {@link
   * #guard(String, LockMode, Duration)}.
   */
  public KeyGuard guard(String key, LockMode mode)
      throws LockTimeoutException, InterruptedException {
    return guard(key, mode, GUARD_TIMEOUT);
  }

  private static final Duration GUARD_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Guards a key for a block of work (try-with-resources). When this member holds the active grant
   * of the key's partition and nobody else has asked to lock the key, it returns at once with the
   * grant's token and no ZooKeeper request. Otherwise it takes a per-key lock in {@code mode}: a
   * foreign lock on an owned key is granted only after the owner has yielded it (its guards on the
   * key closed), and the owner's own guards on that key go through the lock until the foreign lock
   * is gone; the owner's next fast-path token is then larger than the foreign lock's. Guards
   * exclude other members, not this member's own threads.
   *
   * @throws LockTimeoutException if a lock was needed and not granted in time
   * @throws InterruptedException if interrupted while waiting for a lock
   * @throws AlreadyHeldException if a lock was needed and this member already holds or requests one
   *     on an overlapping key (another of its threads, in a guard that took the lock or through
   *     {@link #locks()}); fast-path guards of two threads do not exclude each other
   * @throws IllegalStateException if not started, or closed
   */
  public KeyGuard guard(String key, LockMode mode, Duration timeout)
      throws LockTimeoutException, InterruptedException {
    PartitionGuards g = driver.guards;
    if (g == null || lifecycle.isClosed()) {
      requireStarted("guard");
      throw new IllegalStateException("guard() on closed rebalancer " + selfId);
    }
    return g.guard(key, mode, timeout);
  }

  /**
   * Guards a key only when this member may act on it at once: it holds the active grant of the
   * key's partition and no other member locks or waits for the key. Otherwise returns empty at
   * once, without a ZooKeeper request and without queueing for a lock (see {@link
   * PartitionGuards#tryGuard}).
   *
   * @throws IllegalStateException if not started, or closed
   */
  public Optional<KeyGuard> tryGuard(String key, LockMode mode) {
    PartitionGuards g = driver.guards;
    if (g == null || lifecycle.isClosed()) {
      requireStarted("tryGuard");
      throw new IllegalStateException("tryGuard() on closed rebalancer " + selfId);
    }
    return g.tryGuard(key, mode);
  }

  /**
   * Returns the partition a key routes to, by the group's partition count and key router: the
   * partition whose grant {@link #grant(String)} and {@link #guard} check (in tooz mode only the
   * partition of its lock queue: ownership there follows tooz's ring).
   *
   * @throws IllegalStateException if not started
   */
  public int partition(String key) {
    return locks().partition(key);
  }

  /**
   * Returns this member's lock service: per-key locks in the group's namespace, sharing this
   * member's session.
   *
   * @throws IllegalStateException if not started
   */
  public KeyLocks locks() {
    KeyLocks l = locks;
    if (l == null) {
      requireStarted("locks");
      throw new IllegalStateException("the lock service of " + selfId + " did not start");
    }
    return l;
  }

  /**
   * Waits until the group is stable: a state for the current workers is in force, every live worker
   * has acknowledged it, the leader's barrier says so, this member has activated its grants, and it
   * is connected.
   *
   * @return whether it became stable within the timeout
   * @throws IllegalStateException if not started
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean awaitStable(Duration timeout) throws InterruptedException {
    requireStarted("awaitStable");
    return loop.waitFor(driver::stable, timeout);
  }

  /**
   * Leaves gracefully: marks this member draining, waits until the group has acknowledged a state
   * that gives it nothing (its partitions' new owners activate on that barrier), or the timeout
   * passes, then leaves the group. Called from a listener callback, it cannot wait for its own
   * callbacks: it starts the same drain in the background and returns false at once. When this
   * member's session is lost (before or during the drain), there is nothing it can hand over: it
   * leaves at once and returns false; the others take its partitions once ZooKeeper ends the
   * session.
   *
   * @return whether the handoff completed within the timeout
   * @throws IllegalStateException if not started
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean drain(Duration timeout) throws InterruptedException {
    requireStarted("drain");
    if (!loop.submit(driver::startDraining)) {
      return false;
    }
    if (loop.isListenerThread()) {
      DaemonThreads.start(
          "ringwork-drain-" + selfId,
          () -> {
            try {
              shutdown.awaitDrained(timeout);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            close();
          });
      return false;
    }
    boolean done = shutdown.awaitDrained(timeout);
    close();
    return done;
  }

  /**
   * Leaves the group to restart: as {@link #close()}, but this member's partitions stay reserved
   * for it for the restart grace ({@link RebalancerBuilder#restartGrace(Duration)}): they are
   * revoked here and acknowledged as on any leave, so nothing runs them, and no other member is
   * given them until the grace has run out. A member with the same id that starts within the grace
   * gets exactly them back, with higher fencing tokens, through the usual barrier. Called from a
   * listener callback, it finishes in the background as {@link #close()} does.
   *
   * @return whether the reservation was written (never for a member an operator drained, which
   *     holds nothing); when it could not be (no connection), this member leaves anyway and the
   *     group's leader reserves its partitions when it sees it gone, from the reservation this
   *     member holds while it is present
   * @throws IllegalStateException if no restart grace is set, or if not started
   */
  public boolean closeForRestart() {
    if (restartGrace.isZero()) {
      throw new IllegalStateException(
          "closeForRestart() needs a restart grace: set RebalancerBuilder.restartGrace(...) for "
              + selfId);
    }
    requireStarted("closeForRestart");
    boolean reserved = false;
    if (!lifecycle.isClosed()) {
      try {
        reserved = driver.fleet.leaveForRestart();
      } catch (IllegalStateException e) {
        log.warn("{}; leaving anyway", e.getMessage());
      }
    }
    close();
    return reserved;
  }

  /**
   * Leaves the group at once: stops every grant, runs {@code onRevoked} (up to the revoke
   * deadline), withdraws this member's acknowledgement and leaves. Idempotent; throws nothing.
   * Called from a listener callback, it stops the grants at once and finishes in the background.
   */
  @Override
  public void close() {
    if (!lifecycle.close()) {
      return;
    }
    if (loop.isListenerThread()) {
      shutdown.fromCallback();
      return;
    }
    shutdown.run();
  }

  /** The revoke deadline in use (clamped to half the negotiated session timeout at start). */
  Duration revokeDeadlineForTest() {
    return driver.revokeDeadline;
  }

  /**
   * Completes once this rebalancer's close has fully finished (its part on the event thread, or the
   * give-up after the close budget, then its locks closed and the group left): at once after a
   * {@link #close()} that was not called from a callback returns; later after one that was.
   */
  CompletableFuture<Void> shutdownFinished() {
    return shutdown.finished();
  }

  /** An upper bound on how long a close takes ({@link Shutdown#budget()}). */
  Duration closeBudget() {
    return shutdown.budget();
  }

  /** Whether the calling thread is this rebalancer's event thread or listener thread. */
  boolean isOwnThread() {
    return loop.isListenerThread() || loop.isEventThread();
  }

  /** Whether the calling thread is this rebalancer's listener thread (a callback's). */
  boolean isListenerThread() {
    return loop.isListenerThread();
  }

  /**
   * What this member's handoff looks like, for a test that timed out (read on the event thread).
   */
  String describeForTest() {
    return driver.describeFromAnyThread();
  }

  /** Runs a task on the event thread (a test blocks it there to show nothing depends on it). */
  boolean runOnEventThreadForTest(Runnable task) {
    return loop.submit(task);
  }

  PartitionGuards guardsForTest() {
    return driver.guards;
  }

  /** The session lease this rebalancer reads, for tests. */
  SessionLease leaseForTest() {
    return driver.lease;
  }

  boolean isClosedForTest() {
    return lifecycle.isClosed();
  }

  GroupSession sessionForTest() {
    return session;
  }

  /**
   * Stops dead, as a crash would: no revocation, no cleanup, and the ZooKeeper session closed so
   * that its ephemeral nodes go at once.
   */
  void crashForTest() {
    lifecycle.close();
    loop.shutdownNow();
    session.client().close();
    shutdown.finished().complete(null); // no shutdown follows a crash
  }

  private void requireStarted(String what) {
    if (lifecycle.state() == Lifecycle.State.LATENT) {
      throw new IllegalStateException(what + "() needs start() first: rebalancer " + selfId);
    }
  }
}
