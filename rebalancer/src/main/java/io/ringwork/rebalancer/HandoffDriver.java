package io.ringwork.rebalancer;

import io.ringwork.lock.PartitionGuards;
import io.ringwork.lock.internal.OwnerSide;
import io.ringwork.membership.Lifecycle;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.SessionLease;
import io.ringwork.rebalancer.Rebalancer.State;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-thread half of a {@link Rebalancer}: it turns each event (a view, a suspension, a
 * resumption, a session loss, a leadership change, a change of the barrier or of an
 * acknowledgement, a state a {@link Mode} put in force, an operator's control) into the
 * revocations, acknowledgements, activations and barrier writes of a handoff ({@link Handoff}), and
 * publishes the {@link Ownership} snapshot readers see. Every event that may move the handoff on
 * ends with one {@link #reconcile()}. Every method runs on the event thread ({@link EventLoop}) but
 * for the volatile fields, which readers on any thread use.
 */
final class HandoffDriver {

  private static final Logger log = LoggerFactory.getLogger(HandoffDriver.class);

  /** A burst of membership changes holds a recompute back at most this many settle delays. */
  static final int MAX_SETTLE_DELAYS = 10;

  private final GroupSession session;
  private final String selfId;
  private final EventLoop loop;
  private final Lifecycle lifecycle;
  private final GuardedListener listener;
  private final Standbys standbys;
  private final RebalancerMetrics metrics;
  private final Duration settleDelay;
  private final LongSupplier nanoTime;
  final Mode mode;
  final Handoff handoff;
  final FleetWatch fleet;

  // Read on any thread.
  volatile Ownership ownership = Ownership.NONE;
  volatile State state = State.LATENT;
  volatile PartitionGuards guards;
  volatile SessionLease lease;
  volatile Duration revokeDeadline;

  // Confined to the event thread.
  private long[] guardedTokens;
  private boolean guardedPaused;
  private long guardedSession;
  boolean paused;
  boolean lostSession;
  boolean draining;
  private long appliedIncarnation = -1;
  private ScheduledFuture<?> debounced;
  private long burstStartNanos;
  private long viewChangedNanos = -1;
  private long installedNanos = -1;
  private List<MemberInfo> eligibleOf;
  private FleetState eligibleFleet;
  private List<Member> eligible = List.of();

  HandoffDriver(
      RebalancerBuilder b,
      GroupSession session,
      HandoffStore store,
      EventLoop loop,
      Lifecycle lifecycle,
      GuardedListener listener,
      Standbys standbys,
      RebalancerMetrics metrics) {
    this.session = session;
    this.selfId = session.selfId();
    this.loop = loop;
    this.lifecycle = lifecycle;
    this.listener = listener;
    this.standbys = standbys;
    this.metrics = metrics;
    this.revokeDeadline = b.revokeDeadline();
    this.settleDelay = b.settleDelay();
    this.nanoTime = b.nanoTime();
    Host host = new Host();
    this.mode =
        switch (b.strategyOrDefault()) {
          case BALANCED ->
              new CoordinatedMode(host, b.placement(), selfId, store, session.paths().root());
          case RENDEZVOUS -> new LeaderlessMode(host, b.placement(), selfId);
          case TOOZ -> new ToozMode(host, selfId, b.toozPoints(), b.replicaCount());
        };
    this.handoff = new Handoff(store, selfId, loop::submit, this::handoffChanged);
    this.fleet =
        new FleetWatch(
            session.client(),
            session.paths(),
            b.member(),
            b.restartGrace(),
            session,
            loop::submit,
            loop::schedule,
            this::fleetChanged);
  }

  /** What the session tells this driver of. */
  GroupSession.Events sessionEvents() {
    return new SessionEvents();
  }

  /** Marks this member draining (event thread). */
  void startDraining() {
    draining = true;
    updateState();
    session.setDraining(true);
    fleet.reconcile(true);
  }

  /**
   * The close's part on the event thread: ends a leave-for-good reservation, stops every grant
   * (guards drained, onRevoked run, each up to the revoke deadline), and only then withdraws the
   * acknowledgement.
   */
  void closeOnEventThread() {
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
  }

  /** Tells the listener what closing did to the standby set (from any thread; see close). */
  void standbysClosed() {
    standbysChanged(standbys.close());
  }

  /** Looks again whether this member is stable (a lease began, the guards are ready). */
  void recheckState() {
    loop.submit(this::updateState);
  }

  /** Whether the group is stable for this member (event thread). */
  boolean stable() {
    return isStable();
  }

  /** Whether this member's drain has completed (event thread). */
  boolean drainedNow() {
    return drained();
  }

  /**
   * What this member's handoff looks like, for a test that timed out: read on the event thread,
   * waiting up to 5 s for it.
   */
  String describeFromAnyThread() {
    CompletableFuture<String> d = new CompletableFuture<>();
    if (!loop.submit(() -> d.complete(describe()))) {
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

  private String describe() {
    return String.format(
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
        session.incarnation());
  }

  /**
   * The end of the lease under which a snapshot's grants may be used, or {@code Long.MIN_VALUE}
   * when it has ended: read from the session lease alone, so it holds whatever the event thread,
   * the listener thread or ZooKeeper's event thread are doing.
   */
  long leaseEnd(Ownership o) {
    SessionLease l = lease;
    if (l == null) {
      return Long.MIN_VALUE;
    }
    long until = l.deadlineNanos(o.session());
    return until == Long.MIN_VALUE || System.nanoTime() - until >= 0 ? Long.MIN_VALUE : until;
  }

  private final class SessionEvents implements GroupSession.Events {
    @Override
    public void onView() {
      loop.submit(HandoffDriver.this::viewChanged);
    }

    @Override
    public void onSuspended() {
      loop.submit(HandoffDriver.this::suspended);
    }

    @Override
    public void onResumed() {
      loop.submit(HandoffDriver.this::resumed);
    }

    @Override
    public void onLost() {
      loop.submit(HandoffDriver.this::lost);
    }

    @Override
    public void onLeadership(boolean leader) {
      loop.submit(
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
      return HandoffDriver.this.eligible();
    }

    @Override
    public void submit(Mode.Task task) {
      loop.submit(() -> run(task));
    }

    @Override
    public void schedule(Mode.Task task, Duration delay) {
      loop.schedule(() -> run(task), delay);
    }

    /**
     * Runs {@code task} once changes stop for {@code delay}, but at most {@link #MAX_SETTLE_DELAYS}
     * delays after the first change of the burst: without the bound, changes that keep coming
     * closer together than the join window (a rolling restart, a flapping member) would hold back
     * every recompute, and a leaver's partitions would stay unowned until they stop. Kafka bounds
     * its initial rebalance delay the same way (by the rebalance timeout).
     */
    @Override
    public void debounce(Mode.Task task, Duration delay) {
      long now = nanoTime.getAsLong();
      if (debounced == null || debounced.isDone()) {
        burstStartNanos = now;
      }
      cancelDebounced();
      long window = delay.toNanos();
      long bound =
          window > Long.MAX_VALUE / MAX_SETTLE_DELAYS ? Long.MAX_VALUE : window * MAX_SETTLE_DELAYS;
      long left = bound - (now - burstStartNanos);
      long wait = Math.max(0, Math.min(window, left));
      debounced = loop.schedule(() -> run(task), Duration.ofNanos(wait));
    }

    /** Runs a mode's task and applies what it put in force. */
    private void run(Mode.Task task) {
      task.run().ifPresent(HandoffDriver.this::installed);
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

  private void cancelDebounced() {
    if (debounced != null) {
      debounced.cancel(false);
      debounced = null;
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
      loop.callback(() -> listener.onLost(held));
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
      loop.callback(() -> listener.onAssignment(table));
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
      loop.callback(() -> listener.onStandbyRevoked(change.revoked()));
    }
    if (!change.added().isEmpty()) {
      loop.callback(() -> listener.onStandby(change.added()));
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
      loop.schedule(this::retryAcknowledge, Duration.ofMillis(100));
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
    CompletableFuture<Void> done = loop.callbackAsync(() -> listener.onRevoked(revoked));
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
    loop.callback(() -> listener.onAssigned(grants));
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
      loop.schedule(this::leaderCheck, settleDelay.plusMillis(100));
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
    loop.callback(listener::onSuspended);
  }

  private void resumed() {
    if (!paused) {
      return;
    }
    paused = false;
    publish();
    loop.callback(listener::onResumed);
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
    loop.callback(() -> listener.onLost(held));
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
    if (!OwnerSide.update(g, tokens, !o.paused(), o.session(), revokeDeadline)) {
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
}
