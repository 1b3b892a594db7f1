package io.ringwork.benchmarks;

import io.ringwork.benchmarks.peers.PlacementCase;
import io.ringwork.benchmarks.peers.Placer;
import io.ringwork.ring.BalancedPlacement;
import io.ringwork.ring.Member;
import io.ringwork.ring.Placement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The quality of each peer's placement on the same inputs as {@link PlacementBenchmark}: partitions
 * moved against the optimum, and peak and lowest load against the average. Not a benchmark: a
 * faster peer that moves more is not a win.
 *
 * <p>Two lower bounds are printed for a change. The <em>optimum</em> is the departed members'
 * partitions plus each staying member's surplus over its exact quota, the quotas being those of
 * {@link BalancedPlacement#quotas} ({@code floor(P * w / W)} or one more, remainders by largest
 * fraction, ties by id). The <em>minimum</em> lets a placement choose which members get the
 * remainder's extra partition (those that already hold one more than the floor), which is the least
 * any placement whose loads differ by at most one can move; it is at most the optimum.
 *
 * <p>Run: {@code java -Xmx8g -cp benchmarks/target/benchmarks.jar
 * io.ringwork.benchmarks.PlacementQuality [--rendezvous-all] [SIZE...]}, sizes as {@code
 * 1000x65536}; rendezvous is skipped at P * N above 10^9 unless {@code --rendezvous-all} is given.
 */
public final class PlacementQuality {

  private static final long RENDEZVOUS_LIMIT = 1_000_000_000L;

  private PlacementQuality() {}

  /** Prints a Markdown table of every peer and operation for each size. */
  public static void main(String[] args) {
    List<String> sizes = new ArrayList<>();
    boolean rendezvousAll = false;
    for (String arg : args) {
      if (arg.equals("--rendezvous-all")) {
        rendezvousAll = true;
      } else {
        sizes.add(arg);
      }
    }
    if (sizes.isEmpty()) {
      sizes.addAll(List.of("100x4096", "1000x65536", "10000x1048576"));
    }
    System.out.println(
        "| size | op | placer | moved | optimum | minimum | moved/minimum | peak/avg | min/avg |");
    System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (String size : sizes) {
      String[] nxp = size.split("x");
      int n = Integer.parseInt(nxp[0]);
      int p = Integer.parseInt(nxp[1]);
      String[] rendezvousBefore = null;
      for (String op : PlacementCase.OPERATIONS) {
        PlacementCase c = PlacementCase.of(n, p, op);
        for (String name : Placer.NAMES) {
          Placer peer = Placer.create(name);
          PlacementCase own = c;
          if (name.equals("rendezvous")) {
            if (!rendezvousAll && (long) p * n > RENDEZVOUS_LIMIT) {
              System.out.printf(
                  Locale.ROOT,
                  "| %s | %s | rendezvous | not run: O(P x N) = %.0e hashes per table"
                      + " (--rendezvous-all) | | | | | |%n",
                  size,
                  op,
                  (double) p * n);
              continue;
            }
            if (c.before() != null) {
              // Stateless: its previous table is its own table of the members before, not ours.
              if (rendezvousBefore == null) {
                PlacementCase full = new PlacementCase(p, null, null, c.before());
                rendezvousBefore = peer.owners(peer.compute(peer.prepare(full)), full);
              }
              own = new PlacementCase(p, c.before(), rendezvousBefore, c.after());
            }
          }
          Quality q = measure(own, peer.owners(peer.compute(peer.prepare(own)), own));
          boolean full = op.equals("full");
          System.out.printf(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %s | %.3f | %.3f |%n",
              size,
              op,
              name,
              full ? "-" : Long.toString(q.moved()),
              full ? "-" : Long.toString(q.optimum()),
              full ? "-" : Long.toString(q.minimum()),
              full
                  ? "-"
                  : String.format(
                      Locale.ROOT,
                      "%.2f",
                      q.minimum() == 0 ? 1.0 : (double) q.moved() / q.minimum()),
              q.peak(),
              q.min());
        }
      }
    }
  }

  /**
   * The quality of one placement.
   *
   * @param moved partitions whose owner changed
   * @param optimum the least moves that reach the exact quotas of {@link BalancedPlacement}
   * @param minimum the least moves that reach any loads within one of the fair share
   * @param peak the largest load over the average
   * @param min the smallest load over the average
   */
  record Quality(long moved, long optimum, long minimum, double peak, double min) {}

  /**
   * Measures the owners computed for a case.
   *
   * @throws IllegalStateException if a partition has no owner or an owner is not a member after
   */
  static Quality measure(PlacementCase c, String[] owners) {
    Map<String, Integer> load = new HashMap<>();
    for (Member m : c.after()) {
      load.put(m.id(), 0);
    }
    for (int p = 0; p < owners.length; p++) {
      if (owners[p] == null || !load.containsKey(owners[p])) {
        throw new IllegalStateException(
            "partition " + p + " is owned by '" + owners[p] + "', not by a member after");
      }
      load.merge(owners[p], 1, Integer::sum);
    }
    double average = (double) c.partitions() / c.after().size();
    int peak = 0;
    int least = Integer.MAX_VALUE;
    for (int n : load.values()) {
      peak = Math.max(peak, n);
      least = Math.min(least, n);
    }
    long moved = 0;
    long optimum = 0;
    long minimum = 0;
    if (c.before() != null) {
      Map<String, Integer> before = new HashMap<>();
      for (int p = 0; p < owners.length; p++) {
        before.merge(c.previousOwners()[p], 1, Integer::sum);
        if (!owners[p].equals(c.previousOwners()[p])) {
          moved++;
        }
      }
      Map<String, Integer> quotas =
          ((BalancedPlacement) Placement.newBuilder().partitions(c.partitions()).build())
              .quotas(c.after());
      for (Map.Entry<String, Integer> e : before.entrySet()) {
        Integer q = quotas.get(e.getKey());
        optimum += q == null ? e.getValue() : Math.max(0, e.getValue() - q);
      }
      minimum = c.partitions() - maximumKept(c, before);
    }
    return new Quality(moved, optimum, minimum, peak / average, least / average);
  }

  /**
   * The most partitions that can stay with their owner when every member after ends with {@code
   * floor(P * w / W)} or one more: each keeps up to its floor, and the remainder's extra slots go
   * to members that hold more than their floor.
   */
  private static long maximumKept(PlacementCase c, Map<String, Integer> before) {
    double weight = c.after().stream().mapToDouble(Member::weight).sum();
    long kept = 0;
    long floors = 0;
    long eligible = 0;
    for (Member m : c.after()) {
      double exact = c.partitions() * m.weight() / weight;
      long floor = (long) Math.floor(exact);
      int had = before.getOrDefault(m.id(), 0);
      floors += floor;
      kept += Math.min(had, floor);
      if (exact > floor && had > floor) {
        eligible++;
      }
    }
    return kept + Math.min(c.partitions() - floors, eligible);
  }
}
