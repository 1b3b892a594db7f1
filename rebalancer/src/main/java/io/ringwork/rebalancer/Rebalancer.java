package io.ringwork.rebalancer;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.lock.AlreadyHeldException;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.lock.PartitionGuards;
import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.GroupConfig;
import io.ringwork.membership.GroupFacts;
import io.ringwork.membership.Lifecycle;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.SessionLease;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
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
 * the background.
 */
public final class Rebalancer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Rebalancer.class);
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
  private final Mode mode;
  private final Handoff handoff;
  private final FleetWatch fleet;
  private final Duration restartGrace;
  private volatile Duration revokeDeadline;
  private final Duration settleDelay;
  private final LongSupplier nanoTime;
  private final GuardedListener listener;
  private final String selfId;
  private final Standbys standbys;

  private final ScheduledExecutorService events;
  private final ExecutorService callbacks;
  private volatile Thread listenerThread;
  private volatile Thread eventThread;
  // Completed at the very end of shutdown(): grants stopped, onRevoked run, the acknowledgement
  // withdrawn, the locks closed and the group left (a RingworkClient waits for it before it ends
  // the session the ring lives in).
  private final CompletableFuture<Void> shutdownFinished = new CompletableFuture<>();
  private final Object stableMonitor = new Object();
  private final RebalancerMetrics metrics;
  private final Lifecycle lifecycle = new Lifecycle();

  private volatile Ownership ownership = Ownership.NONE;
  private volatile State state = State.LATENT;
  private final MetricRegistry registry;
  private final KeyRouter router;
  private final String group;
  private final String namespace;
  private volatile KeyLocks locks;
  private volatile PartitionGuards guards;
  private volatile SessionLease lease;
  private volatile boolean calledFromCallback;
  // A lease that begins (a new session's, or one renewed after it lapsed) may make this member
  // stable: look again on the event thread.
  private final Runnable leaseBegins = () -> submit(this::updateState);
  private long[] guardedTokens;
  private boolean guardedPaused;
  private long guardedSession;

  // Confined to the event thread.
  private boolean paused;
  private boolean lostSession;
  private boolean draining;
  private long appliedIncarnation = -1;
  private ScheduledFuture<?> debounced;
  private long viewChangedNanos = -1;
  private long installedNanos = -1;
  private List<MemberInfo> eligibleOf;
  private FleetState eligibleFleet;
  private List<Member> eligible = List.of();

  Rebalancer(RebalancerBuilder b, GroupSession session) {
    this.session = session;
    this.selfId = session.selfId();
    this.revokeDeadline = b.revokeDeadline();
    this.settleDelay = b.settleDelay();
    this.nanoTime = b.nanoTime();
    this.listener = new GuardedListener(b.listener(), selfId);
    this.standbys = new Standbys(selfId);
    int n = INSTANCES.incrementAndGet();
    String name = "ringwork-rebalancer-" + b.group() + "-" + selfId + "-" + n;
    this.events =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(name, t -> eventThread = t));
    this.callbacks =
        Executors.newSingleThreadExecutor(
            DaemonThreads.named(name + "-listener", t -> listenerThread = t));
    this.registry = b.metrics();
    this.router = b.routerOrDefault();
    this.group = b.group();
    this.namespace = b.namespace();
    this.metrics =
        new RebalancerMetrics(
            registry, b.group(), selfId, () -> ownership, () -> standbys.current().size());
    Host host = new Host();
    this.mode =
        switch (b.strategyOrDefault()) {
          case BALANCED ->
              new CoordinatedMode(host, b.placement(), selfId, session.client(), session.paths());
          case RENDEZVOUS -> new LeaderlessMode(host, b.placement(), selfId);
          case TOOZ -> new ToozMode(host, selfId, b.toozPoints(), b.replicaCount());
        };
    this.handoff =
        new Handoff(session.client(), session.paths(), selfId, this::submit, this::handoffChanged);
    this.restartGrace = b.restartGrace();
    this.fleet =
        new FleetWatch(
            session.client(),
            session.paths(),
            b.member(),
            restartGrace,
            session,
            this::submit,
            this::schedule,
            this::fleetChanged);
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
    state = State.REBALANCING;
    try {
      session.connect();
      lease = SessionLease.acquire(session.client());
      lease.onLeaseBegins(leaseBegins);
      checkRevokeDeadline();
      GroupFacts.of(session.client(), session.paths())
          .ensureConfig(
              GroupConfig.of(
                  mode.strategy().configName(), mode.partitions(), mode.replicas(), router));
      KeyLocks.Builder lb =
          KeyLocks.newBuilder()
              .client(session.client())
              .namespace(namespace)
              .group(group)
              .memberId(selfId)
              .router(router)
              .metrics(registry)
              .incarnation(session::incarnation);
      if (mode.strategy() != Strategy.TOOZ) {
        lb.partitions(mode.partitions());
      }
      KeyLocks keyLocks = lb.build();
      keyLocks.start();
      locks = keyLocks;
      guards = keyLocks.partitionGuards();
      guards.onReady(() -> submit(this::updateState));
      handoff.start();
      fleet.start();
      mode.start();
      session.start(new SessionEvents());
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
    Ownership o = ownership;
    if (o == Ownership.NONE) {
      requireStarted("grant");
      return Optional.empty();
    }
    long until = leaseEnd(o);
    return until == Long.MIN_VALUE ? Optional.empty() : o.grant(key, until);
  }

  /**
   * The end of the lease under which a snapshot's grants may be used, or {@code Long.MIN_VALUE}
   * when it has ended: read from the session lease alone, so it holds whatever the event thread,
   * the listener thread or ZooKeeper's event thread are doing.
   */
  private long leaseEnd(Ownership o) {
    SessionLease l = lease;
    if (l == null) {
      return Long.MIN_VALUE;
    }
    long until = l.deadlineNanos(o.session());
    return until == Long.MIN_VALUE || System.nanoTime() - until >= 0 ? Long.MIN_VALUE : until;
  }

  /**
   * Returns the active grant for a partition, or empty.
   *
   * @throws IllegalStateException if not started
   */
  public Optional<Grant> grant(int partition) {
    Ownership o = ownership;
    if (o == Ownership.NONE) {
      requireStarted("grant");
      return Optional.empty();
    }
    long token = o.token(partition);
    long until = token == 0 ? Long.MIN_VALUE : leaseEnd(o);
    return until == Long.MIN_VALUE
        ? Optional.empty()
        : Optional.of(new Grant(partition, token, o.version(), until, o.session()));
  }

  /** Returns the owners of a key in the state in force, primary first; empty before one. */
  public List<Member> owners(String key) {
    return ownership.owners(key);
  }

  /** Returns the partitions this member holds an active grant for, ascending. */
  public Set<Integer> ownedPartitions() {
    Ownership o = ownership;
    Set<Integer> owned = new TreeSet<>();
    if (!(o instanceof Ownership.Partitioned table)
        || o.paused()
        || leaseEnd(o) == Long.MIN_VALUE) {
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
    return ownership instanceof Ownership.Partitioned table
        ? Optional.ofNullable(table.assignment())
        : Optional.empty();
  }

  /** Returns whether the connection is suspended, which pauses every grant. */
  public boolean isSuspended() {
    Ownership o = ownership;
    return o.paused() || (o.activeCount() > 0 && leaseEnd(o) == Long.MIN_VALUE);
  }

  /**
   * Returns where this rebalancer stands: the basis of a health check. A member whose session lease
   * has ended while it holds grants is SUSPENDED here at once, even before the event that announces
   * it has been processed.
   */
  public State state() {
    State s = state;
    if (s == State.STABLE || s == State.REBALANCING) {
      Ownership o = ownership;
      if (o.session() != 0 && leaseEnd(o) == Long.MIN_VALUE) {
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
    Ownership o = ownership;
    long until = leaseEnd(o);
    return until == Long.MIN_VALUE ? 0 : Math.max(0, until - System.nanoTime());
  }

  /**
   * Returns the Curator client this rebalancer uses, for tests and diagnostics (for example {@code
   * RingworkZooKeeper.expireSession}); do not close it or write through it.
   */
  public CuratorFramework curator() {
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
    PartitionGuards g = guards;
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
    PartitionGuards g = guards;
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
    return waitFor(this::isStable, timeout);
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
    if (!submit(
        () -> {
          draining = true;
          updateState();
          session.setDraining(true);
          fleet.reconcile(true);
        })) {
      return false;
    }
    if (Thread.currentThread() == listenerThread) {
      DaemonThreads.start(
          "ringwork-drain-" + selfId,
          () -> {
            try {
              waitFor(() -> drained() || lostSession, timeout);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            close();
          });
      return false;
    }
    // A lost session holds nothing to hand over: its partitions move once ZooKeeper has ended it,
    // so waiting for a handoff it cannot take part in would only delay the exit.
    AtomicBoolean lost = new AtomicBoolean();
    boolean done =
        waitFor(
                () -> {
                  lost.set(lostSession); // read on the event thread, which owns it
                  return lost.get() || drained();
                },
                timeout)
            && !lost.get();
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
        reserved = fleet.leaveForRestart();
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
    if (Thread.currentThread() == listenerThread) {
      ownership = Ownership.NONE;
      calledFromCallback = true;
      PartitionGuards g = guards;
      if (g != null) {
        g.update(new long[0], false, 0, Duration.ZERO); // no fast path from now on
      }
      DaemonThreads.start("ringwork-close-" + selfId, this::shutdown);
      return;
    }
    shutdown();
  }

  /**
   * Clamps the revoke deadline to half the session timeout the server negotiated: {@code onRevoked}
   * runs while the event thread waits for it, and a deadline near the session timeout would let the
   * member's events (a suspension, a loss) wait behind it for most of a session. The session lease
   * keeps grants safe either way; this keeps the member responsive.
   */
  private void checkRevokeDeadline() {
    long negotiated;
    try {
      negotiated = session.client().getZookeeperClient().getZooKeeper().getSessionTimeout();
    } catch (Exception e) {
      return;
    }
    Duration max = Duration.ofMillis(negotiated / 2);
    if (negotiated > 0 && revokeDeadline.compareTo(max) > 0) {
      log.warn(
          "revokeDeadline {} ms of {} is more than half the negotiated session timeout ({} ms);"
              + " using {} ms",
          revokeDeadline.toMillis(),
          selfId,
          negotiated,
          max.toMillis());
      revokeDeadline = max;
    }
  }

  /** The revoke deadline in use (clamped to half the negotiated session timeout at start). */
  Duration revokeDeadlineForTest() {
    return revokeDeadline;
  }

  /**
   * Completes once this rebalancer's close has fully finished (its part on the event thread, or the
   * give-up after the close budget, then its locks closed and the group left): at once after a
   * {@link #close()} that was not called from a callback returns; later after one that was.
   */
  CompletableFuture<Void> shutdownFinished() {
    return shutdownFinished;
  }

  /**
   * An upper bound on how long a close takes: the guards in flight (a close from a callback), the
   * event thread's part (draining guards and onRevoked, each up to the revoke deadline, plus 5 s),
   * then closing the locks and leaving the group (10 s here, for ZooKeeper round trips).
   */
  Duration closeBudget() {
    return revokeDeadline.multipliedBy(3).plusSeconds(15);
  }

  /** Whether the calling thread is this rebalancer's event thread or listener thread. */
  boolean isOwnThread() {
    Thread t = Thread.currentThread();
    return t == listenerThread || t == eventThread;
  }

  /** Whether the calling thread is this rebalancer's listener thread (a callback's). */
  boolean isListenerThread() {
    return Thread.currentThread() == listenerThread;
  }

  private void shutdown() {
    try {
      shutdownSteps();
    } finally {
      shutdownFinished.complete(null);
    }
  }

  private void shutdownSteps() {
    PartitionGuards open = guards;
    if (open != null && calledFromCallback) {
      // close() from a callback stopped the fast path without waiting: wait for the guards in
      // flight now, before the acknowledgement that lets a successor in is withdrawn.
      open.awaitGuardsClosed(revokeDeadline);
    }
    try {
      events
          .submit(
              () -> {
                cancelDebounced();
                // Before the member node goes: a leave for good ends this member's reservation.
                fleet.leave(session.incarnation());
                fleet.close();
                Set<Integer> held = mode.dropAll();
                ownership = mode.snapshot(paused);
                syncGuards(ownership);
                if (!held.isEmpty()) {
                  revoke(held);
                }
                standbysChanged(standbys.close());
                mode.close();
                handoff.close();
                // Only after revoking: while the acknowledgement stands, nobody takes our work.
                handoff.withdraw(session.sessionId());
                ownership = Ownership.NONE;
              })
          // The task drains guards and runs onRevoked, each up to the revoke deadline.
          .get(2 * revokeDeadline.toMillis() + 5000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
      log.warn("rebalancer {} did not close cleanly", selfId, e);
      // The event thread is stuck (or gone) before its withdraw: withdraw from here, or on a
      // caller's client the acknowledgement would block every barrier for the session's life.
      handoff.withdraw(session.sessionId());
      // A leave for good ends the reservation from here too (a no-op if the task got that far, or
      // when leaving for a restart); otherwise the partitions would stay unowned for the grace.
      fleet.leave(session.incarnation());
      fleet.close();
    }
    // Normally done on the event thread above (this finds the set empty). If that thread was stuck,
    // empty the set from here, so that standbyPartitions() is empty after close, and tell the
    // listener on its own thread; close() also keeps a stuck task from installing standbys later.
    standbysChanged(standbys.close());
    ownership = Ownership.NONE;
    state = State.CLOSED;
    KeyLocks l = locks;
    if (l != null) {
      l.close();
    }
    SessionLease sl = lease;
    if (sl != null) {
      sl.removeListener(leaseBegins);
      sl.release();
    }
    session.close();
    events.shutdownNow();
    callbacks.shutdown();
    metrics.close();
    synchronized (stableMonitor) {
      stableMonitor.notifyAll();
    }
  }

  /**
   * What this member's handoff looks like, for a test that timed out (read on the event thread).
   */
  String describeForTest() {
    CompletableFuture<String> d = new CompletableFuture<>();
    if (!submit(
        () ->
            d.complete(
                String.format(
                    "%s: state=%s mode=%s ack=%s@%d barrier=%s pending=%s paused=%s joined=%s"
                        + " leader=%s workers=%d eligible=%d matches=%s incarnation=%d/%d",
                    selfId,
                    state,
                    mode.state(),
                    handoff.ackState(),
                    handoff.ackZxid(),
                    handoff.barrier(),
                    mode.pending(),
                    paused,
                    session.joined(),
                    session.isLeader(),
                    session.workers().size(),
                    eligible().size(),
                    mode.matches(eligible()),
                    appliedIncarnation,
                    session.incarnation())))) {
      return selfId + ": closed";
    }
    try {
      return d.get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return selfId + ": interrupted";
    } catch (ExecutionException | TimeoutException e) {
      return selfId + ": event thread busy (" + e + ")";
    }
  }

  /** Runs a task on the event thread (a test blocks it there to show nothing depends on it). */
  boolean runOnEventThreadForTest(Runnable task) {
    return submit(task);
  }

  PartitionGuards guardsForTest() {
    return guards;
  }

  /** The session lease this rebalancer reads, for tests. */
  SessionLease leaseForTest() {
    return lease;
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
    events.shutdownNow();
    callbacks.shutdownNow();
    session.client().close();
    shutdownFinished.complete(null); // no shutdown follows a crash
  }

  private void requireStarted(String what) {
    if (lifecycle.state() == Lifecycle.State.LATENT) {
      throw new IllegalStateException(what + "() needs start() first: rebalancer " + selfId);
    }
  }

  // ---------------------------------------------------------------- event thread

  private final class SessionEvents implements GroupSession.Events {
    @Override
    public void onView() {
      submit(Rebalancer.this::viewChanged);
    }

    @Override
    public void onSuspended() {
      submit(Rebalancer.this::suspended);
    }

    @Override
    public void onResumed() {
      submit(Rebalancer.this::resumed);
    }

    @Override
    public void onLost() {
      submit(Rebalancer.this::lost);
    }

    @Override
    public void onLeadership(boolean leader) {
      submit(
          () -> {
            if (!leader) {
              handoff.follow();
            }
            mode.leadershipChanged(leader);
            fleet.reconcile(draining);
            leaderCheck();
          });
    }
  }

  /** What the modes see of this rebalancer. */
  private final class Host implements Mode.Host {
    @Override
    public GroupSession session() {
      return session;
    }

    @Override
    public List<Member> eligible() {
      return Rebalancer.this.eligible();
    }

    @Override
    public void submit(Mode.Task task) {
      Rebalancer.this.submit(() -> run(task));
    }

    @Override
    public void schedule(Mode.Task task, Duration delay) {
      Rebalancer.this.schedule(() -> run(task), delay);
    }

    @Override
    public void debounce(Mode.Task task, Duration delay) {
      cancelDebounced();
      debounced = Rebalancer.this.schedule(() -> run(task), delay);
    }

    /** Runs a mode's task and applies what it put in force. */
    private void run(Mode.Task task) {
      task.run().ifPresent(Rebalancer.this::installed);
    }

    @Override
    public Duration settleDelay() {
      return settleDelay;
    }

    @Override
    public RebalancerMetrics metrics() {
      return metrics;
    }
  }

  private boolean submit(Runnable task) {
    if (lifecycle.isClosed() || events.isShutdown()) {
      return false;
    }
    try {
      events.execute(
          () -> {
            try {
              if (!lifecycle.isClosed()) {
                task.run();
              }
            } catch (RuntimeException e) {
              log.error("rebalancer {} event failed", selfId, e);
            } finally {
              synchronized (stableMonitor) {
                stableMonitor.notifyAll();
              }
            }
          });
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  private ScheduledFuture<?> schedule(Runnable task, Duration delay) {
    try {
      return events.schedule(() -> submit(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return null;
    }
  }

  private void cancelDebounced() {
    if (debounced != null) {
      debounced.cancel(false);
      debounced = null;
    }
  }

  /** Polls a condition on the event thread until it holds or the timeout passes. */
  private boolean waitFor(BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      CompletableFuture<Boolean> check = new CompletableFuture<>();
      if (!submit(() -> check.complete(condition.getAsBoolean()))) {
        return false;
      }
      try {
        if (check.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          return true;
        }
      } catch (ExecutionException | TimeoutException e) {
        return false;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      // Woken by the next event; the short bound covers a notification that came in between.
      synchronized (stableMonitor) {
        TimeUnit.NANOSECONDS.timedWait(stableMonitor, Math.min(left, 20_000_000L));
      }
    }
  }

  /**
   * The members placed: the live workers that are not draining and the members that hold a
   * reservation, as the operators' controls say ({@link FleetState#placed}); computed once per list
   * of workers and controls (so once per view or control change).
   */
  private List<Member> eligible() {
    List<MemberInfo> workers = session.workers();
    FleetState controls = fleet.state();
    if (workers != eligibleOf || controls != eligibleFleet) {
      List<Member> next = controls.placed(workers);
      if (!next.equals(eligible)) {
        eligible = next;
      }
      eligibleOf = workers;
      eligibleFleet = controls;
    }
    return eligible;
  }

  /** A reservation, the pause or a drain request changed: as a view change. */
  private void fleetChanged() {
    fleet.reconcile(draining);
    updateState();
    mode.viewChanged();
    reconcile();
  }

  private void viewChanged() {
    fleet.reconcile(draining);
    viewChangedNanos = nanoTime.getAsLong();
    if (newIncarnation() && !mode.state().isNone()) {
      acknowledge();
    }
    mode.viewChanged();
    reconcile();
  }

  /**
   * If this member joined as a new incarnation since the state was last set up: whatever the old
   * one held is gone, and everything the state in force gives this member is pending again, to be
   * acknowledged afresh in this session. Checked wherever an acknowledgement may be written first
   * (a view, a resume, a retry), so that no path acknowledges a new incarnation without it.
   *
   * @return whether it was a new incarnation
   */
  private boolean newIncarnation() {
    if (!session.joined() || appliedIncarnation == session.incarnation()) {
      return false;
    }
    Set<Integer> held = mode.dropAll();
    if (!held.isEmpty()) {
      callback(() -> listener.onLost(held));
    }
    lostSession = false;
    appliedIncarnation = session.incarnation();
    handoff.forgetAck();
    if (!mode.state().isNone()) {
      mode.reset();
      publish();
    }
    return true;
  }

  private void handoffChanged() {
    reconcile();
  }

  /** A mode put a new state in force: revoke, acknowledge, activate what the barrier allows. */
  private void installed(Mode.Installed change) {
    Set<Integer> revoked = change.revoked();
    Assignment table = change.table();
    installedNanos = nanoTime.getAsLong();
    publish();
    if (!revoked.isEmpty()) {
      revoke(revoked);
    }
    standbysChanged(standbys.install(table));
    if (table != null) {
      callback(() -> listener.onAssignment(table));
    }
    acknowledge();
    reconcile();
  }

  /**
   * Tells the listener what an applied assignment did to the standby set: after {@code onRevoked}
   * (ownership ends before a standby begins) and, being queued at install, before the {@code
   * onAssigned} of that assignment (a standby ends before its promotion to primary begins).
   */
  private void standbysChanged(Standbys.Change change) {
    if (!change.revoked().isEmpty()) {
      callback(() -> listener.onStandbyRevoked(change.revoked()));
    }
    if (!change.added().isEmpty()) {
      callback(() -> listener.onStandby(change.added()));
    }
  }

  private void acknowledge() {
    if (!session.joined() || mode.state().isNone()) {
      return;
    }
    newIncarnation();
    try {
      handoff.acknowledge(mode.state(), session.incarnation(), session.sessionId());
    } catch (Exception e) {
      log.warn("could not acknowledge {} as {}: {}", mode.state(), selfId, e.toString());
      handoff.forgetAck();
      schedule(this::retryAcknowledge, Duration.ofMillis(100));
    }
  }

  private void retryAcknowledge() {
    if (!handoff.acknowledged(mode.state())) {
      acknowledge();
      reconcile();
    }
  }

  /** Runs onRevoked and waits for it up to the deadline; the grants are already inactive. */
  private void revoke(Set<Integer> revoked) {
    CompletableFuture<Void> done =
        CompletableFuture.runAsync(() -> listener.onRevoked(revoked), callbacks);
    try {
      done.get(revokeDeadline.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      metrics.overdueRevocation();
      log.warn(
          "onRevoked of {} partitions on {} ran past its {} deadline; acknowledging anyway",
          revoked.size(),
          selfId,
          revokeDeadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | RejectedExecutionException e) {
      log.warn("onRevoked could not run on {}", selfId, e);
    }
  }

  /**
   * Ends every event that may move the handoff on: activates what the barrier completes for this
   * member, then, as the leader, checks whether every worker has acknowledged the leader's state.
   * (A suspension and a session loss only stop grants, and end without it; a leadership change only
   * runs the leader's half.)
   */
  private void reconcile() {
    tryActivate();
    leaderCheck();
  }

  private void tryActivate() {
    if (paused || !session.joined() || !mode.pending()) {
      updateState();
      return;
    }
    Handoff.Barrier barrier = handoff.completing(mode.state());
    if (barrier == null || handoff.ackSessionOrZero() != session.sessionId()) {
      updateState();
      return;
    }
    List<Grant> activated = mode.activate(barrier.zxid());
    publish();
    Ownership o = ownership;
    long until = leaseEnd(o);
    List<Grant> grants = new ArrayList<>(activated.size());
    for (Grant g : activated) {
      grants.add(g.until(until == Long.MIN_VALUE ? System.nanoTime() : until, o.session()));
    }
    long now = nanoTime.getAsLong();
    if (installedNanos >= 0) {
      metrics.handoffWait(now - installedNanos);
    }
    if (viewChangedNanos >= 0) {
      metrics.rebalanceTime(now - viewChangedNanos);
      viewChangedNanos = -1;
    }
    callback(() -> listener.onAssigned(grants));
    updateState();
  }

  /** As the leader, writes the barrier once every worker has acknowledged the leader's state. */
  private void leaderCheck() {
    if (!session.isLeader() || !session.joined()) {
      handoff.follow();
      return;
    }
    handoff.lead();
    if (!mode.matches(eligible())) {
      return; // a newer state is coming for this view: completing the old one would be wasted
    }
    try {
      handoff.complete(mode.state(), session.workers());
    } catch (Exception e) {
      log.warn("leader {} could not complete the handoff; retrying: {}", selfId, e.toString());
      schedule(this::leaderCheck, settleDelay.plusMillis(100));
    }
  }

  private boolean isStable() {
    if (paused || !session.joined() || mode.state().isNone() || mode.pending()) {
      return false;
    }
    if (!mode.matches(eligible())) {
      return false;
    }
    PartitionGuards g = guards;
    Ownership o = ownership;
    return handoff.completes(mode.state())
        && (o.activeCount() == 0 || leaseEnd(o) != Long.MIN_VALUE)
        && (g == null || g.ready()); // the fast path of every grant decided
  }

  private boolean drained() {
    if (mode.state().isNone()) {
      return !session.joined() || eligible().isEmpty();
    }
    if (mode.givesWork()) {
      return eligible().isEmpty();
    }
    return handoff.completes(mode.state());
  }

  private void suspended() {
    if (paused) {
      return;
    }
    paused = true;
    publish();
    callback(listener::onSuspended);
  }

  private void resumed() {
    if (!paused) {
      return;
    }
    paused = false;
    publish();
    callback(listener::onResumed);
    handoff.invalidate();
    if (!handoff.acknowledged(mode.state())) {
      // A state installed while disconnected could not be acknowledged then.
      acknowledge();
    }
    reconcile();
  }

  private void lost() {
    Set<Integer> held = mode.dropAll();
    paused = false;
    lostSession = true;
    handoff.forgetAck();
    handoff.follow();
    appliedIncarnation = -1;
    publish();
    callback(() -> listener.onLost(held));
    // Rejoining happens in the membership layer; the next view acknowledges afresh.
  }

  private void publish() {
    // Once closed (possibly from a callback, while this thread was still working), no grant shows.
    Ownership next =
        lifecycle.isClosed()
            ? Ownership.NONE
            : mode.snapshot(paused).withSession(handoff.ackSessionOrZero());
    ownership = next;
    syncGuards(next);
    metrics.version(next.version());
    updateState();
  }

  /**
   * Hands the active grants to the owner fast path. Partitions no longer granted lose it before
   * this returns (their guards in flight drained, up to the revoke deadline): before onRevoked and
   * the acknowledgement that lets a successor activate.
   */
  private void syncGuards(Ownership o) {
    PartitionGuards g = guards;
    // Tooz grants are not partitions: the fast path has no tokens then (every key locks).
    long[] tokens = o instanceof Ownership.Partitioned table ? table.tokens() : new long[0];
    if (g == null
        || (tokens == guardedTokens
            && o.paused() == guardedPaused
            && o.session() == guardedSession)) {
      return;
    }
    guardedTokens = tokens;
    guardedPaused = o.paused();
    guardedSession = o.session();
    // The session the grants were activated in (their acknowledgement's), not the membership's
    // current one: a rejoin in a new session must not lend its lease to grants of the old one.
    if (!g.update(tokens, !o.paused(), o.session(), revokeDeadline)) {
      log.warn("guards of {} still open past the revoke deadline; handing over anyway", selfId);
    }
  }

  private void updateState() {
    if (lifecycle.isClosed()) {
      return;
    }
    if (draining || fleet.remoteDrained()) {
      state = State.DRAINING;
    } else if (lostSession) {
      state = State.LOST;
    } else if (paused) {
      state = State.SUSPENDED;
    } else {
      state = isStable() ? State.STABLE : State.REBALANCING;
    }
  }

  private void callback(Runnable call) {
    try {
      callbacks.execute(call);
    } catch (RejectedExecutionException e) {
      log.debug("listener callback of {} dropped after close", selfId);
    }
  }
}
