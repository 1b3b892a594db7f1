package io.ringwork.benchmarks;

import io.ringwork.benchmarks.peers.PlacementCase;
import io.ringwork.benchmarks.peers.Placer;
import io.ringwork.ring.BalancedPlacement;
import io.ringwork.ring.Member;
import io.ringwork.ring.Placement;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The quality of each peer's placement on the same inputs as {@link PlacementBenchmark}: partitions
 * moved against the optimum (the departed members' partitions plus each staying member's surplus
 * over its exact quota) and peak/average load. Not a benchmark: a faster peer that moves more is
 * not a win.
 *
 * <p>Run: {@code java -Xmx8g -cp benchmarks/target/benchmarks.jar
 * io.ringwork.benchmarks.PlacementQuality [SIZE...]}
 */
public final class PlacementQuality {

  private PlacementQuality() {}

  /** Prints a Markdown table. */
  public static void main(String[] args) {
    List<String> sizes = args.length > 0 ? List.of(args) : List.of("100x4096", "1000x65536");
    System.out.println(
        "| size | op | placer | moved | optimum | moved/optimum | peak/avg | min/avg |");
    System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (String size : sizes) {
      String[] nxp = size.split("x");
      for (String op : PlacementCase.OPERATIONS) {
        PlacementCase c = PlacementCase.of(Integer.parseInt(nxp[0]), Integer.parseInt(nxp[1]), op);
        for (String name : Placer.NAMES) {
          if (name.equals("rendezvous")
              && (long) c.partitions() * c.after().size() > 1_000_000_000L) {
            // O(P * N) hash evaluations per table: 10^10 here, minutes per computation.
            System.out.printf(
                Locale.ROOT, "| %s | %s | rendezvous | not run: O(P x N) | | | | |%n", size, op);
            continue;
          }
          Placer peer = Placer.create(name);
          PlacementCase own = c;
          if (name.equals("rendezvous") && c.before() != null) {
            // Stateless: its previous table is its own table of the members before, not ours.
            PlacementCase full = new PlacementCase(c.partitions(), null, null, c.before());
            String[] before = peer.owners(peer.compute(peer.prepare(full)), full);
            own = new PlacementCase(c.partitions(), c.before(), before, c.after());
          }
          String[] owners = peer.owners(peer.compute(peer.prepare(own)), own);
          Quality q = measure(own, owners);
          System.out.printf(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %.3f | %.3f |%n",
              size,
              op,
              name,
              op.equals("full") ? "-" : Long.toString(q.moved),
              op.equals("full") ? "-" : Long.toString(q.optimum),
              op.equals("full")
                  ? "-"
                  : String.format(
                      Locale.ROOT, "%.2f", q.optimum == 0 ? 1.0 : (double) q.moved / q.optimum),
              q.peak,
              q.min);
        }
      }
    }
  }

  /** Moved, optimum, and peak and min load over average. */
  public record Quality(long moved, long optimum, double peak, double min) {}

  static Quality measure(PlacementCase c, String[] owners) {
    Map<String, Integer> after = new HashMap<>();
    for (String o : owners) {
      if (o == null) {
        throw new IllegalStateException("a partition has no owner");
      }
      after.merge(o, 1, Integer::sum);
    }
    double average = (double) c.partitions() / c.after().size();
    int peak = 0;
    int min = Integer.MAX_VALUE;
    for (Member m : c.after()) {
      int n = after.getOrDefault(m.id(), 0);
      peak = Math.max(peak, n);
      min = Math.min(min, n);
    }
    long moved = 0;
    long optimum = 0;
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
    }
    return new Quality(moved, optimum, peak / average, min / average);
  }
}
