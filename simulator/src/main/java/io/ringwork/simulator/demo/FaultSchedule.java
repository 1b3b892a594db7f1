package io.ringwork.simulator.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The faults of a demo run, in the order they come: every kind once per cycle, in an order drawn
 * from the run's seed, spread evenly over the run.
 *
 * @param kinds the faults asked for, in the order given (a kind may repeat)
 */
record FaultSchedule(List<Fault> kinds) {

  FaultSchedule {
    kinds = List.copyOf(kinds);
  }

  /**
   * Returns the schedule of the faults named in {@code labels}.
   *
   * @throws io.ringwork.simulator.cli.InputException naming the first unknown label
   */
  static FaultSchedule parse(List<String> labels) {
    return new FaultSchedule(labels.stream().map(Fault::parse).toList());
  }

  /** Whether {@code fault} is among the kinds. */
  boolean contains(Fault fault) {
    return kinds.contains(fault);
  }

  /** Whether the run injects no fault. */
  boolean isEmpty() {
    return kinds.isEmpty();
  }

  /** This schedule without {@code fault}. */
  FaultSchedule without(Fault fault) {
    return new FaultSchedule(kinds.stream().filter(f -> f != fault).toList());
  }

  /**
   * The order of one cycle, shuffled with {@code rnd}. With worker processes, slow faults (a JVM
   * per worker) fit fewer in a run: pause, the one that shows a stale write refused, comes first so
   * that a default run has one.
   */
  List<Fault> cycle(Random rnd, boolean processes) {
    List<Fault> order = new ArrayList<>(kinds);
    Collections.shuffle(order, rnd);
    if (processes && order.remove(Fault.PAUSE)) {
      order.add(0, Fault.PAUSE);
    }
    return order;
  }

  /** The time between two faults: the run split in one more part than there are kinds. */
  Duration spacing(Duration run) {
    return run.dividedBy(Math.max(1, kinds.size()) + 1);
  }
}
