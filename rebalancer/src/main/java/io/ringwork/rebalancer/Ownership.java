package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;

/**
 * An immutable view of one member's ownership, swapped through one volatile reference so that
 * {@link Rebalancer#grant(String)} is a few reads and no lock.
 *
 * @param assignment the assignment in force, or null before the first one
 * @param tokens the active fencing token per partition, 0 where this member holds no active grant
 * @param version the version of {@code assignment}
 * @param paused whether the connection is suspended, which pauses every grant
 * @param rings tooz mode: the rings applied since the last settled one, oldest first; a key is this
 *     member's only if every one of them gives it to this member; null otherwise
 * @param ringToken tooz mode: the token of the last settled ring, 0 while nothing is held
 */
record Ownership(
    Assignment assignment,
    long[] tokens,
    long version,
    boolean paused,
    java.util.List<io.ringwork.ring.ToozRing> rings,
    long ringToken) {

  static final Ownership NONE = new Ownership(null, new long[0], 0, false, null, 0);

  long token(int partition) {
    return paused || partition >= tokens.length ? 0 : tokens[partition];
  }

  int activeCount() {
    int n = 0;
    for (long t : tokens) {
      if (t != 0) {
        n++;
      }
    }
    return n;
  }
}
