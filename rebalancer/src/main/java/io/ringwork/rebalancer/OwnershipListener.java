package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import java.util.List;
import java.util.Set;

/**
 * Receives ownership changes of one member. Every callback runs on the rebalancer's own listener
 * thread ({@code ringwork-rebalancer-<group>-<id>-<n>-listener}), one at a time, never on
 * ZooKeeper's thread or the rebalancer's event thread; one that throws is logged and ignored. A
 * callback may call {@link Rebalancer#close()} or {@link Rebalancer#drain(java.time.Duration)}:
 * they return at once and finish in the background.
 *
 * <p>The order of callbacks follows the handoff: {@code onRevoked} returns before the member
 * acknowledges the state that took the partitions away, and {@code onAssigned} comes only after the
 * barrier of a later state. With {@code replicas > 1}, {@link #onStandby(Set)} and {@link
 * #onStandbyRevoked(Set)} follow the standby set of the assignment in force; see {@link
 * #onStandby(Set)} for how they order against ownership.
 */
public interface OwnershipListener {

  /**
   * Partitions became active for this member: act on them from now on, presenting the token of each
   * grant to resources that check fencing tokens.
   */
  default void onAssigned(List<Grant> grants) {}

  /**
   * Partitions are being taken away: stop acting on them and return. The rebalancer waits for this
   * call, up to the revoke deadline, before it acknowledges the handoff to their new owners.
   */
  default void onRevoked(Set<Integer> partitions) {}

  /**
   * The session ended and with it every grant: stop acting on these partitions at once. The member
   * rejoins by itself as a new incarnation and gets new grants with new tokens.
   */
  default void onLost(Set<Integer> partitions) {}

  /** The connection to ZooKeeper is suspended: grants are paused until {@link #onResumed()}. */
  default void onSuspended() {}

  /** The connection came back within the session: paused grants are active again. */
  default void onResumed() {}

  /** A new assignment version was applied. */
  default void onAssignment(Assignment assignment) {}

  /**
   * This member became a standby of these partitions (it is their owner of rank 2 or more in the
   * assignment in force, with {@code replicas > 1}): it may prefetch their state,
   * <em>read-only</em>, so that it takes over warm if it is promoted. A standby holds no grant and
   * no fencing token: it must not act on the partitions or write for them; {@link
   * Rebalancer#grant(int)} stays empty for them until {@link #onAssigned(List)} says otherwise.
   *
   * <p>Order, on the listener thread like every callback: when an assignment is applied, {@code
   * onRevoked} (ownership taken away; the rebalancer waits for it) comes first, then {@link
   * #onStandbyRevoked(Set)}, then {@code onStandby}, then {@link #onAssignment(Assignment)}. So a
   * primary demoted to standby hears {@code onRevoked} before {@code onStandby}, and a standby
   * promoted to primary hears {@code onStandbyRevoked} (when the assignment naming it primary is
   * applied, at which point {@link Rebalancer#assignment()} already names it) strictly before
   * {@code onAssigned} (after the barrier, once the previous owner has stopped). Keep what was
   * prefetched for a partition the assignment now gives this member as primary: {@code onAssigned}
   * follows. Never called with {@code replicas = 1} or in tooz mode.
   */
  default void onStandby(Set<Integer> partitions) {}

  /**
   * This member is no longer a standby of these partitions: stop prefetching them. Called when an
   * assignment that drops them from this member's standbys is applied (also when it makes this
   * member their primary: see {@link #onStandby(Set)} for the order), and for every standby when
   * the rebalancer closes (also when its close gives up on a stuck event thread: then it is queued
   * by the closing thread, and runs unless this listener's own thread is stuck).
   */
  default void onStandbyRevoked(Set<Integer> partitions) {}
}
