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
}
