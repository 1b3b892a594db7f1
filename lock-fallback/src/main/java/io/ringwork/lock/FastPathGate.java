package io.ringwork.lock;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

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
 *   <li>{@link #drained}: the old epoch's count is zero (or the caller gives up).
 *   <li>{@link #endDrain}: the flag is cleared; a flip that was given up on stays in place, and
 *       step 2 of the next drain waits for what it left behind.
 * </ol>
 *
 * <h2>Waiting without polling</h2>
 *
 * <p>A drain that finds a step's condition false (the flag taken, the next epoch or the old one not
 * empty) does not poll: it {@linkplain #watchSlot watches} the slot (or {@linkplain #watchFlag the
 * flag}) first, then checks the condition again, and waits only if it is still false. Whoever makes
 * the condition true wakes it: a guard's {@link #exit} (or an {@link #enter} that backs off) whose
 * decrement brings a watched slot to zero, and an {@link #endDrain} of a watched flag, call the
 * gate's wake-up with the stripe, on their own thread. No wake-up is lost, by the same Dekker
 * argument as below: the watcher's count is raised before it re-reads the slot (or the flag), and
 * the guard's decrement (or the flag's release) is written before it reads the watcher count, all
 * sequentially consistent; so either the watcher sees the condition true, or the one who made it
 * true sees the watcher and wakes it. A wake-up says only "look again": the waiter re-checks. A
 * guard pays one more read, of the watcher count, and only when its decrement reaches zero.
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
 * assertions. It also checks the wake-ups: a drain that waits (at any of the three steps, after
 * watching) is woken once its condition has become true, in every interleaving explored; it shows
 * that a gate whose guards do not wake a watched slot fails that check.
 */
final class FastPathGate {

  private final int mask;
  private final AtomicIntegerArray epoch;
  private final AtomicIntegerArray inflight;
  private final AtomicIntegerArray draining;
  // Per slot (2 per stripe), then per stripe's flag: how many waiters watch it.
  private final AtomicIntegerArray watchers;
  private final IntConsumer wake;
  private final boolean wakeOnExit;

  /**
   * Creates a gate of {@code stripes} stripes whose waiters nobody wakes (for drains that only look
   * once).
   *
   * @throws IllegalArgumentException if {@code stripes} is not a positive power of two
   */
  FastPathGate(int stripes) {
    this(stripes, s -> {});
  }

  /**
   * Creates a gate of {@code stripes} stripes that calls {@code wake} with a stripe, on the thread
   * that made it so, when a watched slot of that stripe has fallen to zero or its watched drain
   * flag was released. {@code wake} must not block; the waiter it wakes re-checks.
   *
   * @throws IllegalArgumentException if {@code stripes} is not a positive power of two
   */
  FastPathGate(int stripes, IntConsumer wake) {
    this(stripes, wake, true);
  }

  /** As above; {@code wakeOnExit} false only for the model checker's counter-example. */
  FastPathGate(int stripes, IntConsumer wake, boolean wakeOnExit) {
    if (stripes <= 0 || Integer.bitCount(stripes) != 1) {
      throw new IllegalArgumentException("stripes must be a positive power of two, got " + stripes);
    }
    this.mask = stripes - 1;
    this.epoch = new AtomicIntegerArray(stripes);
    this.inflight = new AtomicIntegerArray(2 * stripes);
    this.draining = new AtomicIntegerArray(stripes);
    this.watchers = new AtomicIntegerArray(3 * stripes);
    this.wake = wake;
    this.wakeOnExit = wakeOnExit;
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
    countOut(slot);
    return -1;
  }

  /** Counts out a guard that {@link #enter} let in. */
  void exit(int slot) {
    countOut(slot);
  }

  private void countOut(int slot) {
    if (inflight.decrementAndGet(slot) == 0 && wakeOnExit && watchers.get(slot) != 0) {
      wake.accept(slot >> 1);
    }
  }

  /**
   * Registers a waiter for {@code slot} falling to zero; the caller then checks {@link #drained}
   * again before it waits, and calls {@link #unwatchSlot} when done.
   */
  void watchSlot(int slot) {
    watchers.incrementAndGet(slot);
  }

  /** Withdraws one {@link #watchSlot}. */
  void unwatchSlot(int slot) {
    watchers.decrementAndGet(slot);
  }

  /**
   * Registers a waiter for the stripe's drain flag being released; the caller then tries {@link
   * #tryBeginDrain} again before it waits, and calls {@link #unwatchFlag} when done.
   */
  void watchFlag(int stripe) {
    watchers.incrementAndGet(flagIndex(stripe));
  }

  /** Withdraws one {@link #watchFlag}. */
  void unwatchFlag(int stripe) {
    watchers.decrementAndGet(flagIndex(stripe));
  }

  private int flagIndex(int stripe) {
    return 2 * (mask + 1) + stripe;
  }

  /** Takes the stripe's drain flag; returns false when another drain of the stripe holds it. */
  boolean tryBeginDrain(int stripe) {
    return draining.compareAndSet(stripe, 0, 1);
  }

  /** Returns whether the epoch a flip would go into has no guard left in it. */
  boolean nextEpochEmpty(int stripe) {
    return inflight.get(nextSlot(stripe)) == 0;
  }

  /**
   * Returns the slot a flip would go into (the caller holds the stripe's drain flag, so it stays
   * the same until the flip), to watch while {@link #nextEpochEmpty} is false.
   */
  int nextSlot(int stripe) {
    return (stripe << 1) | (epoch.get(stripe) ^ 1);
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
    if (watchers.get(flagIndex(stripe)) != 0) {
      wake.accept(stripe);
    }
  }
}
