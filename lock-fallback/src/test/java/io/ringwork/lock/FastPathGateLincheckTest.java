package io.ringwork.lock;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.Lincheck;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * {@link FastPathGate} under Lincheck's model checker: the fast path's in-flight count against the
 * drains and their epoch flips, on one key of one stripe, with nothing else around (no ZooKeeper,
 * no partitions).
 *
 * <p>The model has five operations. {@code guard(thread)} opens a guard on the key when the thread
 * holds none (the fast path if the gate lets it in: counted in, epoch re-read, key not contested),
 * and closes it otherwise. {@code abandonedDrain()} drains the stripe and gives up after one look,
 * leaving its flip in place, as a drain that times out or loses its grant does. {@code
 * contestAndDrain()} marks the key contested and drains the stripe as a yield does, looking once;
 * when it finds the old epoch empty, the owner would now yield the key to a foreign lock. {@code
 * contestAndDrainAll()} does the same as {@code PartitionGuards.drainAll} does (a withdrawn
 * partition: its fast path closed, then every stripe drained): it does not flip a stripe whose next
 * epoch holds a guard, and then waits until both epochs are empty. {@code
 * contestAndAwaitDrain(thread)} is a yield's drain as {@code PartitionGuards} now runs it, without
 * polling: at each step whose condition is false (the flag taken, the next epoch or the old one not
 * empty) it watches what it waits for, looks again, and parks (the model records the number of
 * wake-ups the gate had given before it watched, and stops there).
 *
 * <p>The checked property, as ghost state asserted in a {@code @Validate} method: when a drain that
 * started after the contest completes, no thread holds a fast guard on the key, and no guard enters
 * the fast path after it. Both checks are sound: a thread records its guard only after the gate let
 * it in and forgets it before it is counted out, so a recorded guard is always counted.
 *
 * <p>Interleavings covered. The model checker may switch threads at every shared read and write and
 * at every CAS, so the switch points are: a guard between reading the epoch, raising its count,
 * re-reading the epoch and reading the contested flag; a drain between taking the drain flag,
 * looking at the next epoch, flipping and looking at the old one; a contest just before or after
 * any of these. {@link #leftRight_allInterleavings_noGuardInsideAfterDrain} draws 10 random
 * scenarios of three threads of two operations each (one more before and after them) and explores
 * up to 300 interleavings of each: among them a guard counted in between a contest and the flip, a
 * guard re-reading the epoch across a flip, two drains racing for the flag, and a drain meeting a
 * guard that an abandoned flip left in the epoch it would flip into (a yield drain then gives up, a
 * drain of all stripes reads both epochs, a guard possibly exiting between the two reads). The
 * scenario tests explore up to 500 interleavings each of the case that broke before: a guard
 * inside, a drain that flips and gives up, then a contest and a second drain (a yield's, or one of
 * all stripes), while the guard closes at any point.
 */
final class FastPathGateLincheckTest {

  private static final int INVOCATIONS = 500;

  @Test
  void leftRight_allInterleavings_noGuardInsideAfterDrain() {
    options().check(LeftRight.class);
  }

  @Test
  void leftRight_guardLeftByAbandonedDrain_isWaitedFor() {
    Lincheck.runConcurrentTest(INVOCATIONS, () -> abandonedThenContested(new Gate(true), false));
  }

  @Test
  void leftRight_guardLeftByAbandonedDrain_isWaitedForByDrainAll() {
    Lincheck.runConcurrentTest(INVOCATIONS, () -> abandonedThenContested(new Gate(true), true));
  }

  @Test
  void withoutNextEpochWait_guardLeftByAbandonedDrain_isCaught() {
    assertThatThrownBy(
            () ->
                Lincheck.runConcurrentTest(
                    INVOCATIONS, () -> abandonedThenContested(new Gate(false), false)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("after a contested drain completed");
  }

  @Test
  void withoutNextEpochWait_randomScenarios_areCaught() {
    assertThatThrownBy(
            () ->
                options()
                    .iterations(50)
                    .minimizeFailedScenario(false)
                    .check(WithoutNextEpochWait.class))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("after a contested drain completed");
  }

  @Test
  void withoutWakeOnExit_randomScenarios_areCaught() {
    assertThatThrownBy(
            () ->
                options()
                    .iterations(50)
                    .minimizeFailedScenario(false)
                    .check(WithoutWakeOnExit.class))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("lost wake-up");
  }

  private static ModelCheckingOptions options() {
    return new ModelCheckingOptions()
        .iterations(10)
        .invocationsPerIteration(300)
        .threads(3)
        .actorsPerThread(2)
        .actorsBefore(1)
        .actorsAfter(1);
  }

  /** A guard is inside; a drain flips and gives up on it; the key is contested and drained. */
  private static void abandonedThenContested(Gate gate, boolean drainAll) {
    Thread owner =
        new Thread(
            () -> {
              gate.guard(0);
              gate.guard(0);
            });
    Thread drains =
        new Thread(
            () -> {
              gate.abandonedDrain();
              if (drainAll) {
                gate.contestAndDrainAll();
              } else {
                gate.contestAndDrain();
              }
            });
    owner.start();
    drains.start();
    try {
      owner.join();
      drains.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    // Plain checks: Lincheck instruments everything this lambda calls, AssertJ included.
    if (gate.violation != null) {
      throw new AssertionError(gate.violation);
    }
  }

  /** The gate and its drains on one key, with the ghost state of the property. */
  static class Gate {
    private static final int STRIPE = 0;

    private final AtomicInteger wakes = new AtomicInteger();
    private final FastPathGate gate;
    private final boolean leftRight;
    // Per thread: a drain parked by contestAndAwaitDrain, what it watches (a slot, or -1 for the
    // flag) and the wake-ups given before it watched.
    private final boolean[] parked = new boolean[4];
    private final int[] parkedOn = new int[4];
    private final int[] wakesBefore = new int[4];
    private final AtomicBoolean contested = new AtomicBoolean();
    // The slot of the fast guard each thread holds, -1 when none: written only while counted in.
    private final int[] held = {-1, -1, -1, -1};
    private volatile boolean drainedAfterContest;
    volatile String violation;

    Gate(boolean leftRight) {
      this(leftRight, true);
    }

    Gate(boolean leftRight, boolean wakeOnExit) {
      this.leftRight = leftRight;
      this.gate = new FastPathGate(1, s -> wakes.incrementAndGet(), wakeOnExit);
    }

    void guard(int thread) {
      int slot = held[thread];
      if (slot >= 0) {
        held[thread] = -1;
        gate.exit(slot);
        return;
      }
      slot = gate.enter(STRIPE, () -> !contested.get());
      if (slot >= 0) {
        if (drainedAfterContest) {
          violation = "thread " + thread + " is in the fast path after a contested drain completed";
        }
        held[thread] = slot;
      }
    }

    void abandonedDrain() {
      drain(false);
    }

    void contestAndDrain() {
      contested.set(true);
      if (drain(false)) {
        completed();
      }
    }

    void contestAndDrainAll() {
      contested.set(true);
      if (drain(true)) {
        completed();
      }
    }

    /** A yield's drain that waits by watching and parking (once per thread; then it stays). */
    void contestAndAwaitDrain(int thread) {
      if (parked[thread]) {
        return;
      }
      contested.set(true);
      if (!await(thread, -1)) {
        return;
      }
      if (!await(thread, gate.nextSlot(STRIPE))) {
        return;
      }
      int old = gate.flip(STRIPE);
      if (!await(thread, old)) {
        return;
      }
      completed();
      gate.endDrain(STRIPE);
    }

    /** Watches, then looks: true when ready (the flag is then taken), else parks the thread. */
    private boolean await(int thread, int slot) {
      int before = wakes.get();
      if (slot < 0) {
        gate.watchFlag(STRIPE);
      } else {
        gate.watchSlot(slot);
      }
      boolean ready = slot < 0 ? gate.tryBeginDrain(STRIPE) : gate.drained(slot);
      if (ready) {
        if (slot < 0) {
          gate.unwatchFlag(STRIPE);
        } else {
          gate.unwatchSlot(slot);
        }
        return true;
      }
      parkedOn[thread] = slot;
      wakesBefore[thread] = before;
      parked[thread] = true;
      return false;
    }

    /** At the end: a parked drain whose condition holds now must have been woken. */
    void checkWakeUps() {
      for (int t = 0; t < parked.length; t++) {
        if (parked[t] && wakes.get() == wakesBefore[t]) {
          boolean ready;
          if (parkedOn[t] < 0) {
            ready = gate.tryBeginDrain(STRIPE);
          } else {
            ready = gate.drained(parkedOn[t]);
          }
          if (ready) {
            violation = "a drain parked by thread " + t + " was never woken: lost wake-up";
          }
        }
      }
    }

    private void completed() {
      for (int t = 0; t < held.length; t++) {
        if (held[t] >= 0) {
          violation = "thread " + t + " is inside after a contested drain completed";
        }
      }
      drainedAfterContest = true;
    }

    /**
     * One look: returns whether the guards before it have all exited; a flip stays either way. A
     * yield drain gives up when the next epoch holds a guard; a drain of all stripes does not flip
     * then, and looks at both epochs.
     */
    private boolean drain(boolean allStripes) {
      if (!gate.tryBeginDrain(STRIPE)) {
        return false;
      }
      try {
        if (!leftRight || gate.nextEpochEmpty(STRIPE)) {
          return gate.drained(gate.flip(STRIPE));
        }
        return allStripes && gate.idle(STRIPE);
      } finally {
        gate.endDrain(STRIPE);
      }
    }
  }

  /** The operations Lincheck draws scenarios from (public: it instantiates and calls them). */
  public abstract static class Operations {
    private final Gate gate;

    Operations(boolean leftRight) {
      this(leftRight, true);
    }

    Operations(boolean leftRight, boolean wakeOnExit) {
      this.gate = new Gate(leftRight, wakeOnExit);
    }

    @Operation
    public void guard(@Param(gen = ThreadIdGen.class) int thread) {
      gate.guard(thread);
    }

    @Operation
    public void abandonedDrain() {
      gate.abandonedDrain();
    }

    @Operation
    public void contestAndDrain() {
      gate.contestAndDrain();
    }

    @Operation
    public void contestAndDrainAll() {
      gate.contestAndDrainAll();
    }

    @Operation
    public void contestAndAwaitDrain(@Param(gen = ThreadIdGen.class) int thread) {
      gate.contestAndAwaitDrain(thread);
    }

    @Validate
    public void noGuardInsideOrAfterContestedDrain() {
      gate.checkWakeUps();
      if (gate.violation != null) {
        throw new IllegalStateException(gate.violation);
      }
    }
  }

  /** The gate's drains as {@link PartitionGuards} runs them. */
  public static final class LeftRight extends Operations {
    public LeftRight() {
      super(true);
    }
  }

  /** The drains before left-right: no wait for the epoch they flip into. */
  public static final class WithoutNextEpochWait extends Operations {
    public WithoutNextEpochWait() {
      super(false);
    }
  }

  /** Guards that do not wake a watched slot when they empty it: waiting drains sleep forever. */
  public static final class WithoutWakeOnExit extends Operations {
    public WithoutWakeOnExit() {
      super(true, false);
    }
  }
}
