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
 */
public record MemberInfo(Member member, boolean draining, long incarnation, long since) {

  /** Returns the member's id. */
  public String id() {
    return member.id();
  }
}
