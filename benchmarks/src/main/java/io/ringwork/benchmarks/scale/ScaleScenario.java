package io.ringwork.benchmarks.scale;

import io.ringwork.rebalancer.Scale;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import org.apache.curator.test.TestingServer;

/**
 * Measures what one membership change costs as the group grows, not a test: N workers in this JVM,
 * each with its own ZooKeeper session, against one in-process server (curator-test's TestingServer)
 * whose packet counter is read with {@code mntr}; P = 4096, settle delay 100 ms, session 10 s.
 *
 * <p>Per N and mode it prints: the time from starting all N at once to one stable table; server
 * packets sent per join and per graceful leave (mean of the rounds, per member); join -> every
 * worker stable (p50, p99, max); and at N = 300 the time from SIGKILL of a worker in its own JVM to
 * its partitions active on the others (session timeout 10 s).
 *
 * <p>Run (after {@code mvn -B -q -pl benchmarks -am package -DskipTests}): {@code java -cp
 * benchmarks/target/benchmarks.jar io.ringwork.benchmarks.scale.ScaleScenario 10 100 300 1000}. The
 * group is the rebalancer test-jar's {@code Scale}, which {@code ScaleTest} bounds.
 */
public final class ScaleScenario {

  private static final int ROUNDS = 5;

  private ScaleScenario() {}

  /** Runs the scenario for each N given (default 10 100 300 1000) and prints a Markdown table. */
  public static void main(String[] args) throws Exception {
    int[] sizes =
        args.length == 0
            ? new int[] {10, 100, 300, 1000}
            : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    StringBuilder table = new StringBuilder();
    table.append(
        "| mode | N | start all -> stable | packets/join | per member | packets/leave | per member"
            + " | join -> all stable p50 / p99 / max | kill -9 -> active |\n");
    table.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (String strategy :
        System.getProperty("scale.strategies", "balanced,rendezvous").split(",")) {
      for (int n : sizes) {
        table.append(run(strategy, n)).append('\n');
        System.err.println(table);
      }
    }
    System.out.println(table);
  }

  private static String run(String strategy, int n) throws Exception {
    try (TestingServer server = Scale.server();
        Scale group = new Scale(server, strategy, 4096, Duration.ofSeconds(10))) {
      System.err.printf("%s N=%d: starting%n", strategy, n);
      long start = group.startAll(n, Duration.ofSeconds(300));
      long joinPackets = 0;
      long leavePackets = 0;
      long[] joins = new long[ROUNDS];
      for (int k = 0; k < ROUNDS; k++) {
        Scale.Change join = group.join(Duration.ofSeconds(120));
        joins[k] = join.nanos();
        joinPackets += join.packetsSent();
        Scale.Change leave = group.leave(Duration.ofSeconds(120));
        leavePackets += leave.packetsSent();
        System.err.printf(
            "  round %d: join %d packets %.0f ms, leave %d packets%n",
            k, join.packetsSent(), join.nanos() / 1e6, leave.packetsSent());
      }
      String crash = "";
      if (n == 300) {
        crash = String.format(Locale.ROOT, "%.2f s", group.killNine(Duration.ofSeconds(60)) / 1e9);
      }
      Arrays.sort(joins);
      double perJoin = joinPackets / (double) ROUNDS;
      double perLeave = leavePackets / (double) ROUNDS;
      return String.format(
          Locale.ROOT,
          "| %s | %d | %.1f s | %.0f | %.1f | %.0f | %.1f | %.0f / %.0f / %.0f ms | %s |",
          strategy,
          n,
          start / 1e9,
          perJoin,
          perJoin / n,
          perLeave,
          perLeave / n,
          joins[ROUNDS / 2] / 1e6,
          joins[ROUNDS - 1] / 1e6,
          joins[ROUNDS - 1] / 1e6,
          crash);
    }
  }
}
