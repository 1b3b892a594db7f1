package io.ringwork.rebalancer;

/**
 * The right to act on one partition: held by exactly one member at a time.
 *
 * <p>A resource that stores the highest token it has seen per partition and rejects lower ones
 * turns away a paused, stale owner (Kleppmann's fencing tokens). Tokens increase strictly per
 * partition across owners and across incarnations of one owner.
 *
 * <p>A grant read from {@link Rebalancer#grant(String)} is valid until {@link #validUntilNanos()}:
 * the end of this member's local session lease at the time of the read (see {@code SessionLease}),
 * which falls before the ZooKeeper server could expire the session and let another member take the
 * partition over. Work longer than {@link #remainingNanos()} should read the grant again before it
 * commits, as Chubby's clients check their lease, and write with the token.
 *
 * @param partition the partition, in {@code [0, P)}
 * @param token the fencing token: a ZooKeeper zxid, strictly increasing per partition
 * @param version the assignment version that granted it
 * @param validUntilNanos the {@link System#nanoTime()} at which this read of the grant stops being
 *     valid unless read again
 * @param session the ZooKeeper session id this member holds the grant in (the session its
 *     acknowledgement was written in): a grant never outlives its session, so a checker such as
 *     {@code ringwork-test}'s {@code StrictHistory} keys holds by member id and session
 */
public record Grant(int partition, long token, long version, long validUntilNanos, long session) {

  /** A grant not yet stamped with a lease and session (inside the rebalancer only). */
  Grant(int partition, long token, long version) {
    this(partition, token, version, System.nanoTime(), 0);
  }

  /** Returns the nanoseconds left before this read of the grant must be renewed; 0 when past. */
  public long remainingNanos() {
    return Math.max(0, validUntilNanos - System.nanoTime());
  }

  /**
   * Two reads of one grant are equal whatever their lease: equality is partition, token and version
   * (a token is issued in one session only), so that a grant read before and after a renewal
   * compares equal.
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Grant g
        && g.partition == partition
        && g.token == token
        && g.version == version;
  }

  @Override
  public int hashCode() {
    return (Integer.hashCode(partition) * 31 + Long.hashCode(token)) * 31 + Long.hashCode(version);
  }

  /** Returns this grant, held in {@code session}, valid until {@code deadline}. */
  Grant until(long deadline, long session) {
    return new Grant(partition, token, version, deadline, session);
  }
}
