package io.ringwork.membership;

/**
 * Receives membership events on the membership's own event thread, never on ZooKeeper's. A listener
 * that throws is logged and the others still run.
 */
public interface MembershipListener {

  /** A new view of the group. */
  default void onView(View view) {}

  /** The connection is suspended: this member may have left the group without knowing it. */
  default void onSuspended() {}

  /** The connection came back within the same session. */
  default void onResumed() {}

  /** The session ended: this member left the group; it rejoins by itself as a new incarnation. */
  default void onLost() {}

  /** This member gained ({@code true}) or lost leadership of the group. */
  default void onLeadership(boolean leader) {}
}
