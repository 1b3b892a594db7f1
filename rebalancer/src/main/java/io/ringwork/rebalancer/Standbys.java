package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * The partitions this member stands by for: exactly the partitions the assignment in force gives it
 * at rank 2 and up ({@link Assignment#standbyPartitionsOf(String)}). Changed on the rebalancer's
 * event thread (and emptied by a close that gave up on a stuck event thread: hence the lock), read
 * through one volatile reference. A standby holds no grant and no token: it only tells the listener
 * which partitions it may prefetch, read-only, to take over warm.
 */
final class Standbys {

  /** What one change of the assignment did to the standby set. */
  record Change(Set<Integer> revoked, Set<Integer> added) {
    static final Change NONE = new Change(Set.of(), Set.of());
  }

  private final String selfId;
  private volatile Set<Integer> current = Set.of();
  private boolean closed; // guarded by this

  Standbys(String selfId) {
    this.selfId = selfId;
  }

  /** The standby set now, ascending and unmodifiable. */
  Set<Integer> current() {
    return current;
  }

  /** Puts the standby set of {@code table} in force; a null table (tooz mode) changes nothing. */
  synchronized Change install(Assignment table) {
    if (table == null || closed) {
      return Change.NONE;
    }
    TreeSet<Integer> next = new TreeSet<>();
    for (int p : table.standbyPartitionsOf(selfId)) {
      next.add(p);
    }
    return moveTo(next);
  }

  /** Empties the standby set for good (closing): later installs change nothing. Idempotent. */
  synchronized Change close() {
    closed = true;
    return moveTo(new TreeSet<>());
  }

  private Change moveTo(TreeSet<Integer> next) {
    Set<Integer> before = current;
    if (before.equals(next)) {
      return Change.NONE;
    }
    TreeSet<Integer> revoked = new TreeSet<>(before);
    revoked.removeAll(next);
    TreeSet<Integer> added = new TreeSet<>(next);
    added.removeAll(before);
    current = Collections.unmodifiableSet(next);
    return new Change(Collections.unmodifiableSet(revoked), Collections.unmodifiableSet(added));
  }
}
