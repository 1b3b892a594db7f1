package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.Processes;
import io.ringwork.test.StrictHistory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * Issue 19: a rolling restart of 3 of 4 {@code ringwork agent} processes (SIGTERM, then the same id
 * started again). With {@code --restart-grace 30s} no partition moves to another member, each
 * member comes back to exactly the partitions it had, with higher tokens, and the strict history
 * finds no overlap. The same rolling restart without the grace, in the same run, is the baseline:
 * it prints one line per restart with the partitions moved and the processing gap, the figures
 * {@code benchmarks/RESULTS.md} quotes.
 *
 * <p>Timing: every wait is bounded by tens of seconds (a JVM start is 1-3 s on an idle machine),
 * which holds at a load average of 10+; the grace (30 s) is far longer than a restart.
 */
final class RollingRestartIT {

  private static final int P = 256;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** One agent process's events, with the member id it runs as. */
  private record Agent(String id, Processes.Child child) {}

  /**
   * A restart's cost: partitions activated on other members and on the restarted one, and the
   * longest time a partition had no holder.
   */
  private record Cost(
      int movedToOthers, int toRestarted, long gapMillis, long rejoinMillis, boolean tokensRose) {}

  @Test
  void rollingRestart_withGrace_movesNothing_tokensRise_noOverlap_withoutGrace_baseline()
      throws Exception {
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1);
    try (TestingServer server = new TestingServer(spec, true);
        Processes processes = new Processes()) {
      List<Cost> grace = rollingRestart(server, processes, "grace", true);
      List<Cost> plain = rollingRestart(server, processes, "plain", false);
      for (int i = 0; i < grace.size(); i++) {
        System.out.printf(
            "restart %d: with --restart-grace 30s %d partitions moved to others, %d activated on"
                + " the restarted member (its own), longest gap %d ms (%d ms from the new"
                + " process's start to its grants); without: %d moved to others, %d moved to the"
                + " restarted member, longest gap %d ms%n",
            i + 1,
            grace.get(i).movedToOthers(),
            grace.get(i).toRestarted(),
            grace.get(i).gapMillis(),
            grace.get(i).rejoinMillis(),
            plain.get(i).movedToOthers(),
            plain.get(i).toRestarted(),
            plain.get(i).gapMillis());
      }
      for (Cost c : grace) {
        assertThat(c.movedToOthers()).isZero();
        assertThat(c.toRestarted()).isEqualTo(P / 4);
        assertThat(c.tokensRose()).isTrue();
      }
      for (Cost c : plain) {
        assertThat(c.movedToOthers()).isEqualTo(P / 4); // the baseline: a drain moves them all
      }
    }
  }

  private List<Cost> rollingRestart(
      TestingServer server, Processes processes, String group, boolean withGrace) throws Exception {
    List<Agent> agents = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      agents.add(start(server, processes, group, "w" + i, withGrace));
    }
    await().atMost(WAIT).until(() -> stable(agents, 4));
    List<Cost> costs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String id = "w" + i;
      Agent old = live(agents, id);
      Map<Integer, Long> before = holding(old);
      int[] marks = marks(agents);
      old.child().signal("TERM");
      assertThat(old.child().process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(old.child().process.exitValue()).isZero();
      String last = old.child().lines.get(old.child().lines.size() - 1);
      assertThat(last).contains(withGrace ? "\"restarting\"" : "\"drained\"");
      if (withGrace) {
        assertThat(last).contains("\"reserved\":true");
      }
      Agent back = start(server, processes, group, id, withGrace);
      agents.add(back);
      await().atMost(WAIT).until(() -> stable(agents, 4));
      if (withGrace) {
        await().atMost(WAIT).until(() -> holding(back).keySet().equals(before.keySet()));
      }
      costs.add(cost(agents, marks, old, back, before));
    }
    strictHistory(agents).assertStrict(Duration.ofSeconds(2));
    for (Agent a : agents) {
      if (a.child().process.isAlive()) {
        a.child().signal("TERM");
        a.child().process.waitFor(60, TimeUnit.SECONDS);
      }
    }
    return costs;
  }

  private static Agent start(
      TestingServer server, Processes processes, String group, String id, boolean withGrace)
      throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "agent",
                "--connect",
                server.getConnectString(),
                "--group",
                group,
                "--id",
                id,
                "--partitions",
                Integer.toString(P),
                "--session-timeout",
                "2000",
                // This test reads each partition's token: the per-partition lists, not ranges.
                "--partition-lists"));
    if (withGrace) {
      args.addAll(List.of("--restart-grace", "30s"));
    }
    return new Agent(id, processes.ringwork(group + "-" + id, args.toArray(String[]::new)));
  }

  private static Agent live(List<Agent> agents, String id) {
    for (int i = agents.size() - 1; i >= 0; i--) {
      if (agents.get(i).id().equals(id) && agents.get(i).child().process.isAlive()) {
        return agents.get(i);
      }
    }
    throw new IllegalStateException("no live agent " + id);
  }

  /** Every partition held once by the live agents, P/n each. */
  private static boolean stable(List<Agent> agents, int n) throws Exception {
    Set<Integer> all = new HashSet<>();
    int count = 0;
    for (Agent a : agents) {
      if (!a.child().process.isAlive()) {
        continue;
      }
      Map<Integer, Long> mine = holding(a);
      if (Math.abs(mine.size() - P / (double) n) > 1) {
        return false;
      }
      all.addAll(mine.keySet());
      count += mine.size();
    }
    return all.size() == P && count == P;
  }

  /** The partitions an agent holds now, with their tokens, replaying its events. */
  private static Map<Integer, Long> holding(Agent a) throws Exception {
    Map<Integer, Long> mine = new TreeMap<>();
    for (String line : List.copyOf(a.child().lines)) {
      JsonNode n = JSON.readTree(line);
      switch (n.path("event").asText()) {
        case "assigned" ->
            n.get("partitions")
                .forEach(p -> mine.put(p.asInt(), n.get("tokens").get(p.asText()).asLong()));
        case "revoked", "lost" -> n.get("partitions").forEach(p -> mine.remove(p.asInt()));
        default -> {}
      }
    }
    return mine;
  }

  private static int[] marks(List<Agent> agents) {
    int[] marks = new int[agents.size() + 1];
    for (int i = 0; i < agents.size(); i++) {
      marks[i] = agents.get(i).child().lines.size();
    }
    return marks;
  }

  /**
   * What one restart cost: partitions activated on members other than the restarted one since the
   * marks, partitions activated on the restarted one, and the longest time a partition had no
   * holder (from a revocation to the next activation of that partition, on the machine's monotonic
   * clock that every process prints as {@code ns}).
   */
  private static Cost cost(
      List<Agent> agents, int[] marks, Agent old, Agent back, Map<Integer, Long> before)
      throws Exception {
    record Event(long ns, int partition, boolean assigned, boolean toRestarted) {}
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < agents.size(); i++) {
      Agent a = agents.get(i);
      List<String> lines = List.copyOf(a.child().lines);
      int from = i < marks.length - 1 ? marks[i] : 0;
      for (String line : lines.subList(Math.min(from, lines.size()), lines.size())) {
        JsonNode n = JSON.readTree(line);
        String event = n.path("event").asText();
        long ns = n.path("ns").asLong();
        boolean assigned = event.equals("assigned");
        if (assigned || event.equals("revoked") || event.equals("lost")) {
          for (JsonNode p : n.get("partitions")) {
            events.add(new Event(ns, p.asInt(), assigned, a.id().equals(old.id())));
          }
        }
      }
    }
    events.sort((x, y) -> Long.compare(x.ns(), y.ns()));
    int toOthers = 0;
    int toRestarted = 0;
    long gap = 0;
    Map<Integer, Long> revokedAt = new HashMap<>();
    for (Event e : events) {
      if (!e.assigned()) {
        revokedAt.put(e.partition(), e.ns());
        continue;
      }
      if (e.toRestarted()) {
        toRestarted++;
      } else {
        toOthers++;
      }
      Long r = revokedAt.remove(e.partition());
      if (r != null) {
        gap = Math.max(gap, TimeUnit.NANOSECONDS.toMillis(e.ns() - r));
      }
    }
    Map<Integer, Long> now = holding(back);
    boolean rose = true;
    for (Map.Entry<Integer, Long> e : now.entrySet()) {
      Long was = before.get(e.getKey());
      if (was != null) {
        rose &= e.getValue() > was;
      }
    }
    return new Cost(toOthers, toRestarted, gap, rejoinMillis(back), rose);
  }

  /** From the new process's {@code started} line to its first {@code assigned} one, in ms. */
  private static long rejoinMillis(Agent back) throws Exception {
    long started = -1;
    for (String line : List.copyOf(back.child().lines)) {
      JsonNode n = JSON.readTree(line);
      String event = n.path("event").asText();
      if (event.equals("started")) {
        started = n.path("ns").asLong();
      } else if (event.equals("assigned") && started >= 0) {
        return TimeUnit.NANOSECONDS.toMillis(n.path("ns").asLong() - started);
      }
    }
    return -1;
  }

  /**
   * Every hold of every agent process as the library's strict history sees it: one incarnation per
   * process, each hold read at its {@code assigned} and at its end on the shared monotonic clock.
   */
  private static StrictHistory strictHistory(List<Agent> agents) throws Exception {
    StrictHistory history = StrictHistory.create();
    for (int i = 0; i < agents.size(); i++) {
      Agent a = agents.get(i);
      StrictHistory.Incarnation who = new StrictHistory.Incarnation(a.id(), i + 1);
      Map<Integer, long[]> open = new HashMap<>();
      long lastNs = 0;
      for (String line : List.copyOf(a.child().lines)) {
        JsonNode n = JSON.readTree(line);
        long ns = n.path("ns").asLong();
        lastNs = Math.max(lastNs, ns);
        switch (n.path("event").asText()) {
          case "assigned" ->
              n.get("partitions")
                  .forEach(
                      p -> {
                        long token = n.get("tokens").get(p.asText()).asLong();
                        open.put(p.asInt(), new long[] {token});
                        history.grantRead(who, p.asInt(), token, ns);
                      });
          case "revoked", "lost" ->
              n.get("partitions")
                  .forEach(
                      p -> {
                        long[] h = open.remove(p.asInt());
                        if (h != null) {
                          history.grantRead(who, p.asInt(), h[0], ns);
                        }
                      });
          default -> {}
        }
      }
      long end = a.child().process.isAlive() ? System.nanoTime() : lastNs;
      for (Map.Entry<Integer, long[]> e : open.entrySet()) {
        history.grantRead(who, e.getKey(), e.getValue()[0], end);
      }
    }
    return history;
  }
}
