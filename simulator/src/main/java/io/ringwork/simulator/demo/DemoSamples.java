package io.ringwork.simulator.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the demo's chart shows, sampled while the run goes: fenced writes per second (once a second,
 * with the status line) and each worker's partitions (four times a second).
 */
final class DemoSamples {

  private final DemoRun run;
  private final long startedNanos;
  private final List<Double> seconds = new ArrayList<>();
  private final List<Double> writes = new ArrayList<>();

  /** Per worker, {second, partitions owned}, for the chart. */
  private final Map<String, List<double[]>> owned = new LinkedHashMap<>();

  private long lastAccepted;
  private double lastSecond;

  DemoSamples(DemoRun run, long startedNanos) {
    this.run = run;
    this.startedNanos = startedNanos;
  }

  /** Seconds since the start. */
  double second() {
    return (System.nanoTime() - startedNanos) / 1e9;
  }

  /** Samples the writes the store took since the last call; returns all it took so far. */
  synchronized long sampleWrites(double second) {
    long accepted = run.accepted();
    double elapsed = seconds.isEmpty() ? second : second - lastSecond;
    seconds.add(second);
    writes.add(elapsed <= 0 ? 0 : (accepted - lastAccepted) / elapsed);
    lastAccepted = accepted;
    lastSecond = second;
    return accepted;
  }

  /** Samples each live worker's partitions (0 while frozen). */
  synchronized void sampleOwnership() {
    double second = second();
    for (Worker w : run.live) {
      owned
          .computeIfAbsent(w.id(), id -> new ArrayList<>())
          .add(new double[] {second, w.counts() ? w.owned() : 0});
    }
  }

  synchronized List<Double> seconds() {
    return seconds;
  }

  synchronized List<Double> writes() {
    return writes;
  }

  synchronized Map<String, List<double[]>> owned() {
    return owned;
  }
}
