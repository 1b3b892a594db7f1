package io.ringwork.benchmarks.latency;

import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.WorkerMain;
import io.ringwork.ring.Member;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * Measures handoff latency, not a test: 10 workers, P = 4096, an embedded ZooKeeper server
 * (curator-test's TestingServer, which runs ZooKeeperServerEmbedded, tick 200 ms), session timeout
 * 2 s.
 *
 * <ul>
 *   <li>join: an 11th worker starts; until every worker is stable (all moved partitions active);
 *   <li>drain: that worker drains; until its partitions are active elsewhere;
 *   <li>kill -9: a worker in its own JVM is killed with SIGKILL; until the others hold its
 *       partitions;
 *   <li>bytes written to ZooKeeper by the leader for one join at P = 65,536.
 * </ul>
 *
 * <p>Run (after {@code mvn -B -q -pl benchmarks -am package -DskipTests}): {@code java -cp
 * benchmarks/target/benchmarks.jar io.ringwork.benchmarks.latency.HandoffScenario [ROUNDS KILLS]}
 * (default 20 5). The worker it kills runs {@code WorkerMain} from the rebalancer's test-jar.
 */
public final class HandoffScenario {

  private HandoffScenario() {}

  /** Runs the scenario and prints a Markdown table. */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int kills = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    // A 200 ms tick: ZooKeeper expires sessions on tick boundaries, so the tick bounds how late
    // past the session timeout a dead member is noticed.
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1);
    try (TestingServer server = new TestingServer(spec, true)) {
      List<Rebalancer> workers = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        workers.add(start(server, "g", "w" + i, 4096));
      }
      awaitStable(workers);
      long[] join = new long[rounds];
      long[] drain = new long[rounds];
      for (int k = 0; k < rounds; k++) {
        long t0 = System.nanoTime();
        Rebalancer extra = start(server, "g", "extra-" + k, 4096);
        List<Rebalancer> all = new ArrayList<>(workers);
        all.add(extra);
        awaitStable(all);
        join[k] = System.nanoTime() - t0;
        t0 = System.nanoTime();
        if (!extra.drain(Duration.ofSeconds(30))) {
          throw new IllegalStateException("drain did not complete");
        }
        awaitStable(workers);
        drain[k] = System.nanoTime() - t0;
      }
      long[] kill = new long[kills];
      for (int k = 0; k < kills; k++) {
        Process child = WorkerMain.spawn(server.getConnectString(), "g", "victim-" + k, 4096, 2000);
        WorkerMain.awaitReady(child);
        awaitStable(workers);
        long t0 = System.nanoTime();
        child.destroyForcibly(); // SIGKILL
        child.waitFor();
        awaitMembers(workers, 10);
        kill[k] = System.nanoTime() - t0;
      }
      workers.forEach(Rebalancer::close);
      System.out.println("| event | p50 | p99 | max | n |");
      System.out.println("| --- | --- | --- | --- | --- |");
      row("join -> all moved partitions active", join);
      row("drain -> its partitions active elsewhere", drain);
      row("kill -9 -> its partitions active elsewhere (session timeout 2 s)", kill);
    }
    try (TestingServer server = new TestingServer(true)) {
      List<Rebalancer> workers = new ArrayList<>();
      MetricRegistry metrics = new MetricRegistry();
      for (int i = 0; i < 10; i++) {
        workers.add(start(server, "big", "w" + i, 65536, metrics));
      }
      awaitStable(workers);
      Written before = written(metrics);
      Rebalancer extra = start(server, "big", "joiner", 65536, metrics);
      workers.add(extra);
      awaitStable(workers);
      Written after = written(metrics);
      long total = after.bytes() - before.bytes();
      long publishes = after.publishes() - before.publishes();
      System.out.printf(
          Locale.ROOT,
          "%nbytes written by the leader for one join at P = 65,536 (10 -> 11 workers): %d in %d"
              + " publish(es); plus one acknowledgement of about 80 bytes per worker%n",
          total,
          publishes);
      workers.forEach(Rebalancer::close);
    }
  }

  /** What the leaders of group "big" recorded, summed over every member's histogram. */
  private record Written(long publishes, long bytes) {}

  /**
   * Reads {@code ringwork.big.<member>.assignment.bytes.written} of every member (the metrics are
   * per member; whoever leads records its publishes).
   */
  private static Written written(MetricRegistry metrics) {
    long publishes = 0;
    long bytes = 0;
    for (Histogram h :
        metrics
            .getHistograms(
                (name, metric) ->
                    name.startsWith("ringwork.big.") && name.endsWith(".assignment.bytes.written"))
            .values()) {
      publishes += h.getCount();
      bytes += Arrays.stream(h.getSnapshot().getValues()).sum();
    }
    return new Written(publishes, bytes);
  }

  private static void row(String what, long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    System.out.printf(
        Locale.ROOT,
        "| %s | %.0f ms | %.0f ms | %.0f ms | %d |%n",
        what,
        percentile(sorted, 0.50) / 1e6,
        percentile(sorted, 0.99) / 1e6,
        sorted[sorted.length - 1] / 1e6,
        sorted.length);
  }

  private static double percentile(long[] sorted, double q) {
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private static Rebalancer start(TestingServer server, String group, String id, int p) {
    return start(server, group, id, p, new MetricRegistry());
  }

  private static Rebalancer start(
      TestingServer server, String group, String id, int p, MetricRegistry metrics) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group(group)
            .member(Member.of(id))
            .connectString(server.getConnectString())
            .partitions(p)
            .sessionTimeout(Duration.ofSeconds(2))
            .metrics(metrics)
            .build();
    r.start();
    return r;
  }

  private static void awaitStable(List<Rebalancer> workers) throws InterruptedException {
    for (Rebalancer r : workers) {
      if (!r.awaitStable(Duration.ofSeconds(60))) {
        throw new IllegalStateException(r.memberId() + " did not become stable");
      }
    }
  }

  private static void awaitMembers(List<Rebalancer> workers, int count)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      boolean done = true;
      for (Rebalancer r : workers) {
        done &=
            r.awaitStable(Duration.ofMillis(1))
                && r.assignment().map(a -> a.members().size() == count).orElse(false);
      }
      if (done) {
        return;
      }
      Thread.onSpinWait();
    }
    throw new IllegalStateException("the killed worker's partitions were not re-owned");
  }
}
