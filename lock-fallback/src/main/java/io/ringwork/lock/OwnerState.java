package io.ringwork.lock;

import io.ringwork.membership.SessionLease;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * What the partition owner's side knows per partition: the grants the rebalancer has given and
 * whether the connection is up (under the monitor a revocation takes, which is the {@link
 * PartitionGuards} object itself), and, read without a lock by every fast guard, each partition's
 * fast-path token, contested keys and resume tokens.
 */
final class OwnerState {

  private final Object monitor;
  private final SessionLease lease;
  final int partitions;

  /** The fast-path token per partition, 0 while its fast path is closed. */
  final AtomicLongArray fast;

  /** The keys of a partition that someone else locks. */
  final AtomicReferenceArray<Contested> contested;

  /** Resume tokens per partition, by routing key. */
  final AtomicReferenceArray<Map<String, Long>> resume;

  /** Granted partitions not listed yet: the fast path is decided once it is 0. */
  final AtomicInteger pendingScans = new AtomicInteger();

  // The session the active grants were activated in; the fast path is open only under its lease.
  private volatile long grantSession;

  // Guarded by monitor: the grants the rebalancer has given, and whether the connection is up.
  private final long[] granted;
  private boolean paused;
  private long session;

  OwnerState(Object monitor, SessionLease lease, int partitions) {
    this.monitor = monitor;
    this.lease = lease;
    this.partitions = partitions;
    this.fast = new AtomicLongArray(partitions);
    this.contested = new AtomicReferenceArray<>(partitions);
    this.resume = new AtomicReferenceArray<>(partitions);
    this.granted = new long[partitions];
  }

  long grantSession() {
    return grantSession;
  }

  /** Whether a fast guard on {@code key} may go ahead: read after it is counted in. */
  boolean free(String key, int p, long t, long session) {
    if (fast.get(p) != t || !lease.valid(session)) {
      return false;
    }
    Contested c = contested.get(p);
    return c == null || !c.blocks(key);
  }

  boolean stillOwned(int partition, long token, long session) {
    long t = fast.get(partition);
    return t != 0 && t <= token && session == grantSession && lease.valid(session);
  }

  /** The nanoseconds a fast guard of {@code session} may still act, by the session lease. */
  long remainingNanos(long session) {
    return session == grantSession ? lease.remainingNanos(session) : 0;
  }

  /**
   * What a grant update changed.
   *
   * @param gained partitions to list (newly granted, or granted again after a pause or in a new
   *     session)
   * @param dropped partitions no longer granted
   * @param newSession whether the grants moved to another session
   */
  record Change(List<Integer> gained, List<Integer> dropped, boolean newSession) {}

  /**
   * Takes the active grants; closes the fast path of every partition whose grant changed, and
   * counts the partitions to list as pending.
   */
  Change update(long[] tokens, boolean connected, long sessionId) {
    List<Integer> gained = new ArrayList<>();
    List<Integer> dropped = new ArrayList<>();
    synchronized (monitor) {
      boolean resumed = paused && connected;
      paused = !connected;
      boolean newSession = sessionId != 0 && session != 0 && sessionId != session;
      session = sessionId;
      grantSession = sessionId;
      for (int p = 0; p < partitions; p++) {
        long next = tokens.length == 0 ? 0 : tokens[p];
        if (granted[p] != next) {
          fast.set(p, 0); // reopened only by a scan under the new grant
          resume.set(p, null); // a new grant's token is above every lock released before it
          if (granted[p] != 0) {
            dropped.add(p);
          }
          granted[p] = next;
          if (next != 0) {
            gained.add(p);
          }
        } else if (!connected) {
          fast.set(p, 0);
        } else if ((resumed || newSession) && next != 0) {
          fast.set(p, 0); // events may have been missed while disconnected: list again first
          gained.add(p);
        }
      }
      pendingScans.addAndGet(gained.size());
      return new Change(gained, dropped, newSession);
    }
  }

  /** Whether this member holds p's grant and is connected. */
  boolean stillGranted(int p) {
    synchronized (monitor) {
      return granted[p] != 0 && !paused;
    }
  }

  /** Whether p is granted, connected or not. */
  boolean granted(int p) {
    synchronized (monitor) {
      return granted[p] != 0;
    }
  }

  /** Closes p's fast path for a listing; false when p is not granted (nothing to list). */
  boolean closeForScan(int p) {
    synchronized (monitor) {
      if (granted[p] == 0 || paused) {
        return false;
      }
      fast.set(p, 0);
      return true;
    }
  }

  /** Opens p's fast path after a listing, if p is still granted and the listing still current. */
  void openAfterScan(int p, BooleanSupplier listingCurrent) {
    synchronized (monitor) {
      if (granted[p] != 0 && !paused && listingCurrent.getAsBoolean()) {
        fast.set(p, granted[p]);
      }
    }
  }

  /**
   * The path of this member's yield for a request in p's queue, or null when this member is not p's
   * active owner in the current session (only the active owner yields).
   */
  String yieldPath(int p, String queue, String request, LongSupplier currentSession) {
    synchronized (monitor) {
      if (granted[p] == 0 || paused || session != currentSession.getAsLong()) {
        return null;
      }
      return queue + "/" + LockNode.yieldName(request, session);
    }
  }

  /** Withdraws every grant and closes every fast path. */
  void clear() {
    synchronized (monitor) {
      Arrays.fill(granted, 0);
      for (int p = 0; p < partitions; p++) {
        fast.set(p, 0);
      }
    }
  }

  /** The keys of one partition that someone else locks: immutable, swapped whole. */
  record Contested(Set<String> exact, List<String> subtrees) {
    boolean blocks(String key) {
      if (exact.contains(key)) {
        return true;
      }
      for (String s : subtrees) {
        if (LockKeys.within(key, s)) {
          return true;
        }
      }
      return false;
    }
  }
}
