package io.ringwork.lock;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits until every fast guard that started before now has closed: what a revocation does before it
 * lets a successor in. Each stripe of the {@link FastPathGate} is flipped (left-right) when the
 * epoch it would flip into is empty; a stripe where a guard that an earlier drain gave up on still
 * sits there is not flipped, and both its epochs are waited for. The waiting thread parks and is
 * woken by the gate (the guard's exit that empties a watched slot), never polls.
 */
final class GuardDrain {

  private static final Logger log = LoggerFactory.getLogger(GuardDrain.class);

  private final FastPathGate gate;
  private final int stripes;
  private final LockMetrics metrics;
  private final String memberId;
  private final Set<Thread> parked = ConcurrentHashMap.newKeySet();
  private final AtomicLong abandoned = new AtomicLong();

  GuardDrain(FastPathGate gate, int stripes, LockMetrics metrics, String memberId) {
    this.gate = gate;
    this.stripes = stripes;
    this.metrics = metrics;
    this.memberId = memberId;
  }

  /** How many drains gave up on guards still open. */
  long abandoned() {
    return abandoned.get();
  }

  /** Wakes the threads parked in a drain (the gate's wake-up). */
  void wake() {
    for (Thread t : parked) {
      LockSupport.unpark(t);
    }
  }

  /** Waits up to {@code timeout}; returns whether every guard closed in time. */
  boolean drainAll(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int[] old = new int[stripes];
    boolean[] both = new boolean[stripes];
    int taken = 0;
    boolean ok = true;
    try {
      for (; taken < stripes; taken++) {
        if (!takeFlag(taken, deadline)) {
          ok = false;
          return false;
        }
        if (gate.nextEpochEmpty(taken)) {
          old[taken] = gate.flip(taken);
        } else {
          both[taken] = true;
        }
      }
      for (int s = 0; s < stripes; s++) {
        if (!(both[s] ? awaitIdle(s, deadline) : awaitSlot(old[s], deadline))) {
          ok = false;
          return false;
        }
      }
      return true;
    } finally {
      for (int s = 0; s < taken; s++) {
        gate.endDrain(s);
      }
      if (!ok) {
        abandoned.incrementAndGet();
        metrics.abandonedGuards.inc();
        log.warn(
            "fast guards of {} still open after {}: those of partitions no longer granted are"
                + " invalid from now on (ensureValid throws, their tokens are below the next"
                + " holder's); those of partitions still granted keep excluding foreign locks",
            memberId,
            timeout);
      }
    }
  }

  private boolean takeFlag(int stripe, long deadline) {
    return gate.tryBeginDrain(stripe)
        || awaitGate(
            () -> gate.watchFlag(stripe),
            () -> gate.unwatchFlag(stripe),
            () -> gate.tryBeginDrain(stripe),
            deadline);
  }

  private boolean awaitSlot(int slot, long deadline) {
    return gate.drained(slot)
        || awaitGate(
            () -> gate.watchSlot(slot),
            () -> gate.unwatchSlot(slot),
            () -> gate.drained(slot),
            deadline);
  }

  private boolean awaitIdle(int stripe, long deadline) {
    return gate.idle(stripe)
        || awaitGate(
            () -> {
              gate.watchSlot(stripe << 1);
              gate.watchSlot((stripe << 1) | 1);
            },
            () -> {
              gate.unwatchSlot(stripe << 1);
              gate.unwatchSlot((stripe << 1) | 1);
            },
            () -> gate.idle(stripe),
            deadline);
  }

  /**
   * Parks this thread until {@code ready} holds or the deadline passes: watches first and then
   * checks, so the gate's wake-up (a guard's exit emptying the slot, a drain releasing the flag) is
   * never missed; an interrupt gives up and stays set.
   */
  private boolean awaitGate(
      Runnable watch, Runnable unwatch, BooleanSupplier ready, long deadline) {
    Thread me = Thread.currentThread();
    parked.add(me);
    watch.run();
    try {
      while (!ready.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || me.isInterrupted()) {
          return false;
        }
        LockSupport.parkNanos(this, left);
      }
      return true;
    } finally {
      unwatch.run();
      parked.remove(me);
    }
  }
}
