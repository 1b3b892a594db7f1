package io.ringwork.lock;

/**
 * One lock node as an operator sees it: who holds or waits, how, since when and why.
 *
 * @param key the key
 * @param subtree whether it covers the key's subtree
 * @param partition the key's partition
 * @param member the member that requested it ("?" when its data is unreadable)
 * @param incarnation that member's incarnation
 * @param mode the mode it holds or waits for
 * @param token its fencing token (the node's creation zxid)
 * @param since when it was requested, epoch milliseconds
 * @param purpose what it is for
 * @param holding whether it holds (false: it waits)
 * @param path the node's path
 * @param revokeRequestedBy who asked the holder to give it up, or null
 * @param problem what is wrong with the node's data, or null when it is readable
 * @param waitingFor for a waiter, what it waits for: the holder or request ahead of it ({@code
 *     "member (mode)"}) or {@code "the owner's yield"}; null for a holder
 */
public record LockInfo(
    String key,
    boolean subtree,
    int partition,
    String member,
    long incarnation,
    LockMode mode,
    long token,
    long since,
    String purpose,
    boolean holding,
    String path,
    String revokeRequestedBy,
    String problem,
    String waitingFor) {

  /** Returns how long ago it was requested, in milliseconds, by the given clock. */
  public long ageMillis(long nowMillis) {
    return Math.max(0, nowMillis - since);
  }
}
