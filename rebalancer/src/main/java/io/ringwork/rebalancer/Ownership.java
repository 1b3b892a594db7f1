package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.ToozRing;
import java.util.List;
import java.util.Optional;

/**
 * An immutable view of one member's ownership, swapped through one volatile reference so that
 * {@link Rebalancer#grant(String)} is a few reads and no lock. It is {@link Partitioned} (a table
 * of partitions, each with its active token) or {@link Tooz} (tooz's rings, key by key).
 */
sealed interface Ownership permits Ownership.Partitioned, Ownership.Tooz {

  /** Nothing owned: before the first state, and once closed. */
  Ownership NONE = new Partitioned(null, new long[0], 0, false, "", 0);

  /** The version of the state in force. */
  long version();

  /** Whether the connection is suspended, which pauses every grant. */
  boolean paused();

  /** This member's id. */
  String selfId();

  /**
   * The ZooKeeper session the grants were activated in (that of this member's acknowledgement):
   * they are void as soon as that session's {@code SessionLease} is.
   */
  long session();

  /** This snapshot, its grants stamped with the session they were activated in. */
  Ownership withSession(long activatedIn);

  /** The active token of a partition, 0 when none (always 0 in tooz mode). */
  long token(int partition);

  /** The active grant of a key valid until {@code until} (the lease's end), or empty. */
  Optional<Grant> grant(String key, long until);

  /** The owners of a key in the state in force, primary first. */
  List<Member> owners(String key);

  /** How many grants are active. */
  int activeCount();

  /**
   * The partitioned modes' snapshot.
   *
   * @param assignment the assignment in force, or null before the first one
   * @param tokens the active fencing token per partition, 0 where this member holds no active grant
   */
  record Partitioned(
      Assignment assignment,
      long[] tokens,
      long version,
      boolean paused,
      String selfId,
      long session)
      implements Ownership {

    @Override
    public Partitioned withSession(long activatedIn) {
      return activatedIn == session
          ? this
          : new Partitioned(assignment, tokens, version, paused, selfId, activatedIn);
    }

    @Override
    public long token(int partition) {
      return paused || partition < 0 || partition >= tokens.length ? 0 : tokens[partition];
    }

    @Override
    public Optional<Grant> grant(String key, long until) {
      if (assignment == null) {
        return Optional.empty();
      }
      int p = assignment.partition(key);
      long token = token(p);
      return token == 0
          ? Optional.empty()
          : Optional.of(new Grant(p, token, version, until, session));
    }

    @Override
    public List<Member> owners(String key) {
      return assignment == null ? List.of() : assignment.owners(key);
    }

    @Override
    public int activeCount() {
      int n = 0;
      for (long t : tokens) {
        if (t != 0) {
          n++;
        }
      }
      return paused ? 0 : n;
    }
  }

  /**
   * Tooz mode's snapshot.
   *
   * @param rings the rings applied since the last settled one, oldest first; a key is this member's
   *     only if every one of them gives it to this member
   * @param ringToken the token of the last settled ring, 0 while nothing is held
   */
  record Tooz(
      List<ToozRing> rings,
      long ringToken,
      long version,
      boolean paused,
      String selfId,
      long session)
      implements Ownership {

    @Override
    public Tooz withSession(long activatedIn) {
      return activatedIn == session
          ? this
          : new Tooz(rings, ringToken, version, paused, selfId, activatedIn);
    }

    @Override
    public long token(int partition) {
      return 0;
    }

    /**
     * The key is ours only if every ring since the last settled one gives it to us, so a key that
     * moves waits for the handoff while keys that stay never pause.
     */
    @Override
    public Optional<Grant> grant(String key, long until) {
      if (paused || ringToken == 0 || rings.isEmpty()) {
        return Optional.empty();
      }
      for (ToozRing ring : rings) {
        if (!ring.primary(key).id().equals(selfId)) {
          return Optional.empty();
        }
      }
      ToozRing newest = rings.get(rings.size() - 1);
      return Optional.of(new Grant(newest.point(key), ringToken, version).until(until, session));
    }

    @Override
    public List<Member> owners(String key) {
      return rings.isEmpty() ? List.of() : rings.get(rings.size() - 1).owners(key);
    }

    @Override
    public int activeCount() {
      return ringToken != 0 && !paused ? 1 : 0;
    }
  }
}
