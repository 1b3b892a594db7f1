package io.ringwork.lock;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BooleanSupplier;

/**
 * The in-flight count of fast-path guards, per stripe, and the drains that wait for it: the part of
 * {@link PartitionGuards} that decides whether a guard may skip the lock and when a drain may say
 * that every earlier guard has closed. It knows no keys, partitions or ZooKeeper; its caller tells
 * it, on entry, whether the key is still free.
 *
 * <h2>The argument</h2>
 *
 * <p>Guards are counted per stripe in two epochs, as in the left-right technique (Ramalhete and
 * Correia, "Left-Right: A Concurrency Control Technique with Wait-Free Population Oblivious Reads",
 * 2015). A guard reads its stripe's epoch e, raises the count of (stripe, e), re-reads the epoch
 * and only then asks its caller whether the key is still free (not contested, partition still
 * granted, lease valid); if the epoch moved or the key is not free it lowers the count again and
 * takes the lock instead. A drain, whose caller has already marked the key contested (or closed the
 * partition's fast path), runs these steps:
 *
 * <ol>
 *   <li>{@link #tryBeginDrain}: drains of one stripe are serialised by a flag.
 *   <li>{@link #nextEpochEmpty}: the epoch it is about to flip <em>into</em> must be empty. A guard
 *       can only be there if an earlier drain flipped away from it and gave up waiting; flipping
 *       back now would count it as new and never wait for it.
 *   <li>{@link #flip}: the stripe's epoch changes, and the old epoch's slot is returned.
 *   <li>{@link #drained}: polled until the old epoch's count is zero (or the caller gives up).
 *   <li>{@link #endDrain}: the flag is cleared; a flip that was given up on stays in place, and
 *       step 2 of the next drain waits for what it left behind.
 * </ol>
 *
 * <p>A drain that must not wait at step 2 (one that drains every stripe at once) may instead skip
 * the flip of a stripe whose next epoch is not empty and wait until the stripe is {@link #idle}:
 * both epochs empty, read one after the other. A guard that was counted before the drain stays in
 * its epoch until it exits, so seeing each epoch empty once means every such guard has exited; the
 * cost is that newer guards of that stripe are waited for too.
 *
 * <p>Why a drain that saw its old epoch empty may say that no guard of a contested key is inside,
 * and that none will enter: the count is raised before the caller's check reads the contested set,
 * and the set is written before the epoch flips; all are sequentially consistent atomics (Dekker's
 * argument). So a guard either reads the key as contested and backs off, or its count was raised
 * before the flip. In the second case its epoch re-read either sees the old epoch (and the guard is
 * counted there until its {@link #exit}, so the drain waits for it) or the new one (and the guard
 * backs off, since the epoch moved). A guard counted in the new epoch that entered before the flip
 * therefore does not exist; one that entered before an <em>earlier</em>, abandoned flip into the
 * current epoch is caught by step 2. A drain that flipped never waits for guards that started after
 * its flip.
 *
 * <p>The cost of a guard is one increment, two reads of the epoch and the caller's check on entry
 * and one decrement on exit, with no allocation; the drains' flag keeps concurrent drains of one
 * stripe from flipping each other's epochs.
 *
 * <h2>Model checking</h2>
 *
 * <p>{@code FastPathGateLincheckTest} runs these steps under Lincheck's model checker, which
 * switches threads at every read, write and CAS of the gate: random scenarios of three threads
 * opening and closing guards on one key, drains that give up after one look (leaving their flips
 * behind) and contest-then-drain on that key (as a yield drains, and as a drain of all stripes
 * does), and the scenario that broke before (a guard inside, a drain that flips and gives up, a
 * contest and a second drain). It asserts that a drain that completes after the contest finds no
 * guard inside and that no guard enters after it, and shows that a drain without step 2 fails these
 * assertions.
 */
final class FastPathGate {

  private final int mask;
  private final AtomicIntegerArray epoch;
  private final AtomicIntegerArray inflight;
  private final AtomicIntegerArray draining;

  /**
   * Creates a gate of {@code stripes} stripes.
   *
   * @throws IllegalArgumentException if {@code stripes} is not a positive power of two
   */
  FastPathGate(int stripes) {
    if (stripes <= 0 || Integer.bitCount(stripes) != 1) {
      throw new IllegalArgumentException("stripes must be a positive power of two, got " + stripes);
    }
    this.mask = stripes - 1;
    this.epoch = new AtomicIntegerArray(stripes);
    this.inflight = new AtomicIntegerArray(2 * stripes);
    this.draining = new AtomicIntegerArray(stripes);
  }

  /** Returns the stripe of a routing key's hash. */
  int stripeOf(long hash) {
    return (int) hash & mask;
  }

  /**
   * Counts a guard in on {@code stripe} and then asks {@code stillFree}; returns the in-flight slot
   * to pass to {@link #exit}, or -1 (counted out again) when the epoch moved or the key is not
   * free.
   */
  int enter(int stripe, BooleanSupplier stillFree) {
    int e = epoch.get(stripe);
    int slot = (stripe << 1) | e;
    inflight.incrementAndGet(slot);
    if (epoch.get(stripe) == e && stillFree.getAsBoolean()) {
      return slot;
    }
    inflight.decrementAndGet(slot);
    return -1;
  }

  /** Counts out a guard that {@link #enter} let in. */
  void exit(int slot) {
    inflight.decrementAndGet(slot);
  }

  /** Takes the stripe's drain flag; returns false when another drain of the stripe holds it. */
  boolean tryBeginDrain(int stripe) {
    return draining.compareAndSet(stripe, 0, 1);
  }

  /** Returns whether the epoch a flip would go into has no guard left in it. */
  boolean nextEpochEmpty(int stripe) {
    return inflight.get((stripe << 1) | (epoch.get(stripe) ^ 1)) == 0;
  }

  /**
   * Flips the stripe's epoch (the caller holds its drain flag and saw {@link #nextEpochEmpty});
   * returns the slot of the epoch it left, for {@link #drained}.
   */
  int flip(int stripe) {
    return (stripe << 1) | epoch.getAndUpdate(stripe, x -> x ^ 1);
  }

  /**
   * Returns whether every guard counted in {@code slot} (an epoch flipped away from) has exited.
   */
  boolean drained(int slot) {
    return inflight.get(slot) == 0;
  }

  /** Returns whether no guard is counted in either epoch of the stripe (each read once). */
  boolean idle(int stripe) {
    return inflight.get(stripe << 1) == 0 && inflight.get((stripe << 1) | 1) == 0;
  }

  /** Releases the stripe's drain flag, whether or not the drain completed. */
  void endDrain(int stripe) {
    draining.set(stripe, 0);
  }
}
