package io.ringwork.benchmarks;

import io.ringwork.benchmarks.peers.PlacementCase;
import io.ringwork.benchmarks.peers.Placer;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The placement comparison of {@link PlacementBenchmark#place} timed in thread CPU time rather than
 * wall time, with the peers interleaved round by round: for a machine shared with other work, where
 * a wall-clock benchmark measures the scheduler as much as the code. Each round runs every peer
 * once on the same input (as prepared in {@link PlacementBenchmark}); the first half of the rounds
 * warm up, and the median over the rest is reported, with each peer's ratio to the first.
 *
 * <p>Run: {@code java -Xmx8g -cp benchmarks/target/benchmarks.jar
 * io.ringwork.benchmarks.PlacementCpuTime 10000x1048576 join 40 balanced kafka-uniform} (arguments:
 * size, operation, rounds, peers).
 */
public final class PlacementCpuTime {

  private PlacementCpuTime() {}

  /** Runs the comparison given on the command line and prints one line per peer. */
  public static void main(String[] args) {
    if (args.length < 4) {
      System.err.println("usage: PlacementCpuTime SIZE OPERATION ROUNDS PEER...");
      System.exit(2);
    }
    PlacementCase c = PlacementBenchmark.caseOf(args[0], args[1]);
    int rounds = Integer.parseInt(args[2]);
    List<Placer> peers = new ArrayList<>();
    List<Object> inputs = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int k = 3; k < args.length; k++) {
      Placer peer = Placer.create(args[k]);
      peers.add(peer);
      inputs.add(peer.prepare(c));
      names.add(args[k]);
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long[][] nanos = new long[peers.size()][rounds];
    Object sink = null;
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < peers.size(); k++) {
        long t0 = mx.getCurrentThreadCpuTime();
        sink = peers.get(k).compute(inputs.get(k));
        nanos[k][r] = mx.getCurrentThreadCpuTime() - t0;
      }
    }
    double base = 0;
    for (int k = 0; k < peers.size(); k++) {
      long[] measured = Arrays.copyOfRange(nanos[k], rounds / 2, rounds);
      Arrays.sort(measured);
      double median = measured[measured.length / 2] / 1e6;
      if (k == 0) {
        base = median;
      }
      System.out.printf(
          Locale.ROOT,
          "%s %s %-26s %10.3f ms CPU (median of %d), %.1fx the first%n",
          args[0],
          args[1],
          names.get(k),
          median,
          measured.length,
          median / base);
    }
    if (sink == null) {
      throw new IllegalStateException("no result");
    }
  }
}
