package io.ringwork.benchmarks.latency;

import io.ringwork.membership.EmbeddedZooKeeper;
import io.ringwork.membership.Membership;
import io.ringwork.membership.MembershipListener;
import io.ringwork.membership.View;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.ring.Member;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Measures view latency, not a test: 50 members, each with its own session, on the embedded server;
 * how long from one member's join or leave until every other member's view shows it, and from a
 * member's kill -9 (its own JVM) until every view drops it, with a 2 s session timeout.
 *
 * <p>Run (after {@code mvn -B -q -pl benchmarks -am package -DskipTests}): {@code java -cp
 * benchmarks/target/benchmarks.jar io.ringwork.benchmarks.latency.MembershipLatencyScenario}
 */
public final class MembershipLatencyScenario {

  private MembershipLatencyScenario() {}

  /** Runs and prints a Markdown table. */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int kills = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    try (EmbeddedZooKeeper server = EmbeddedZooKeeper.start(null)) {
      Map<String, Map<String, Long>> appeared = new ConcurrentHashMap<>();
      Map<String, Map<String, Long>> vanished = new ConcurrentHashMap<>();
      List<Membership> members = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        String me = "m" + i;
        Map<String, Long> seen = new ConcurrentHashMap<>();
        Map<String, Long> gone = new ConcurrentHashMap<>();
        appeared.put(me, seen);
        vanished.put(me, gone);
        Membership m =
            Membership.newBuilder()
                .group("latency")
                .member(Member.of(me))
                .connectString(server.connectString())
                .sessionTimeout(Duration.ofSeconds(2))
                .listener(
                    new MembershipListener() {
                      private java.util.Set<String> last = java.util.Set.of();

                      @Override
                      public void onView(View view) {
                        long now = System.nanoTime();
                        java.util.Set<String> ids = new java.util.HashSet<>();
                        view.members().forEach(x -> ids.add(x.id()));
                        for (String id : ids) {
                          if (!last.contains(id)) {
                            seen.put(id, now);
                          }
                        }
                        for (String id : last) {
                          if (!ids.contains(id)) {
                            gone.put(id, now);
                          }
                        }
                        last = ids;
                      }
                    })
                .build();
        m.start();
        members.add(m);
      }
      waitUntil(() -> members.stream().allMatch(m -> m.view().members().size() == 50));
      long[] join = new long[rounds];
      long[] leave = new long[rounds];
      for (int k = 0; k < rounds; k++) {
        String id = "probe-" + k;
        long t0 = System.nanoTime();
        Membership probe =
            Membership.newBuilder()
                .group("latency")
                .member(Member.of(id))
                .connectString(server.connectString())
                .sessionTimeout(Duration.ofSeconds(2))
                .build();
        probe.start();
        waitUntil(() -> appeared.values().stream().allMatch(s -> s.containsKey(id)));
        join[k] = appeared.values().stream().mapToLong(s -> s.get(id)).max().orElseThrow() - t0;
        t0 = System.nanoTime();
        probe.close();
        waitUntil(() -> vanished.values().stream().allMatch(s -> s.containsKey(id)));
        leave[k] = vanished.values().stream().mapToLong(s -> s.get(id)).max().orElseThrow() - t0;
      }
      long[] kill = new long[kills];
      for (int k = 0; k < kills; k++) {
        String id = "victim-" + k;
        Process child = spawn(server.connectString(), id);
        waitUntil(() -> appeared.values().stream().allMatch(s -> s.containsKey(id)));
        long t0 = System.nanoTime();
        child.destroyForcibly(); // SIGKILL
        waitUntil(() -> vanished.values().stream().allMatch(s -> s.containsKey(id)));
        kill[k] = vanished.values().stream().mapToLong(s -> s.get(id)).max().orElseThrow() - t0;
      }
      members.forEach(Membership::close);
      System.out.println("| 50 members, embedded server | p50 | p99 | max | n |");
      System.out.println("| --- | --- | --- | --- | --- |");
      row("join -> every other member's view shows it", join);
      row("leave -> every other member's view drops it", leave);
      row("kill -9 -> every view drops it (session timeout 2 s)", kill);
    }
  }

  private static void row(String what, long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    System.out.printf(
        Locale.ROOT,
        "| %s | %.1f ms | %.1f ms | %.1f ms | %d |%n",
        what,
        s[(int) Math.ceil(0.5 * s.length) - 1] / 1e6,
        s[(int) Math.ceil(0.99 * s.length) - 1] / 1e6,
        s[s.length - 1] / 1e6,
        s.length);
  }

  private static void waitUntil(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out");
      }
      Thread.sleep(1);
    }
  }

  private static Process spawn(String connect, String id) throws Exception {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                classPath(),
                MemberMain.class.getName(),
                connect,
                "latency",
                id,
                "2000")
            .redirectErrorStream(true)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.equals("JOINED")) {
        DaemonThreads.start(
            "member-output-" + id,
            () -> {
              try {
                out.lines().forEach(l -> {});
              } catch (java.io.UncheckedIOException e) {
                // the process was killed
              }
            });
        return p;
      }
    }
    throw new IllegalStateException("member process exited before joining");
  }

  private static String classPath() throws Exception {
    if (MembershipLatencyScenario.class.getClassLoader()
        instanceof java.net.URLClassLoader loader) {
      StringBuilder sb = new StringBuilder();
      for (java.net.URL url : loader.getURLs()) {
        sb.append(new File(url.toURI())).append(File.pathSeparator);
      }
      return sb.toString();
    }
    return System.getProperty("java.class.path");
  }
}
