package io.ringwork.membership;

import io.ringwork.ring.Member;

/**
 * A live member as a view shows it.
 *
 * @param member id, weight, zone and labels
 * @param draining whether it is handing its work over before leaving
 * @param incarnation the zxid that created its member node; a rejoin after session loss is a new
 *     incarnation with a higher one
 * @param since when it joined, in epoch milliseconds (the node's creation time)
 * @param session the ZooKeeper session that owns its node; another node of this member is trusted
 *     only when the same session owns it
 * @param role whether it runs ownership or only observes
 */
public record MemberInfo(
    Member member,
    boolean draining,
    long incarnation,
    long since,
    long session,
    Membership.Role role) {

  /** Returns whether a rebalancer places work on this member. */
  public boolean isWorker() {
    return role == Membership.Role.WORKER;
  }

  /** Returns the member's id. */
  public String id() {
    return member.id();
  }
}
