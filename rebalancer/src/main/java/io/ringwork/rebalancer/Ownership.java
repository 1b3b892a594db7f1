package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.ToozRing;
import java.util.List;
import java.util.Optional;

/**
 * An immutable view of one member's ownership, swapped through one volatile reference so that
 * {@link Rebalancer#grant(String)} is a few reads and no lock.
 *
 * @param assignment the assignment in force, or null before the first one (and in tooz mode)
 * @param tokens the active fencing token per partition, 0 where this member holds no active grant
 * @param version the version of the state in force
 * @param paused whether the connection is suspended, which pauses every grant
 * @param rings tooz mode: the rings applied since the last settled one, oldest first; a key is this
 *     member's only if every one of them gives it to this member; null otherwise
 * @param ringToken tooz mode: the token of the last settled ring, 0 while nothing is held
 * @param selfId this member's id
 * @param session the ZooKeeper session the grants were activated in (that of this member's
 *     acknowledgement): they are void as soon as that session's {@code SessionLease} is
 */
record Ownership(
    Assignment assignment,
    long[] tokens,
    long version,
    boolean paused,
    List<ToozRing> rings,
    long ringToken,
    String selfId,
    long session) {

  static final Ownership NONE = new Ownership(null, new long[0], 0, false, null, 0, "", 0);

  /** This snapshot, its grants stamped with the session they were activated in. */
  Ownership withSession(long activatedIn) {
    return activatedIn == session
        ? this
        : new Ownership(assignment, tokens, version, paused, rings, ringToken, selfId, activatedIn);
  }

  long token(int partition) {
    return paused || partition < 0 || partition >= tokens.length ? 0 : tokens[partition];
  }

  /** The active grant of a key valid until {@code until} (the lease's end), or empty. */
  Optional<Grant> grant(String key, long until) {
    if (rings != null) {
      return toozGrant(key).map(g -> g.until(until, session));
    }
    if (assignment == null) {
      return Optional.empty();
    }
    int p = assignment.partition(key);
    long token = token(p);
    return token == 0
        ? Optional.empty()
        : Optional.of(new Grant(p, token, version, until, session));
  }

  /**
   * Tooz mode: the key is ours only if every ring since the last settled one gives it to us, so a
   * key that moves waits for the handoff while keys that stay never pause.
   */
  private Optional<Grant> toozGrant(String key) {
    if (paused || ringToken == 0 || rings.isEmpty()) {
      return Optional.empty();
    }
    for (ToozRing ring : rings) {
      if (!ring.primary(key).id().equals(selfId)) {
        return Optional.empty();
      }
    }
    ToozRing newest = rings.get(rings.size() - 1);
    return Optional.of(new Grant(newest.point(key), ringToken, version));
  }

  /** The owners of a key in the state in force, primary first. */
  List<io.ringwork.ring.Member> owners(String key) {
    if (rings != null) {
      return rings.isEmpty() ? List.of() : rings.get(rings.size() - 1).owners(key);
    }
    return assignment == null ? List.of() : assignment.owners(key);
  }

  int activeCount() {
    if (rings != null) {
      return ringToken != 0 && !paused ? 1 : 0;
    }
    int n = 0;
    for (long t : tokens) {
      if (t != 0) {
        n++;
      }
    }
    return paused ? 0 : n;
  }
}
