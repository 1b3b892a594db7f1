package io.ringwork.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.cli.PartitionRanges;
import io.ringwork.test.StrictHistory;
import io.ringwork.test.StrictHistory.Incarnation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The history of {@code ringwork agent} processes, from the JSON lines they print: who holds what
 * now, and the check of the guarantees over every hold.
 *
 * <p>A hold starts with {@code assigned} and ends with {@code revoked}, {@code suspended} (grants
 * pause; {@code resumed} starts a new hold with the same token) or {@code lost}; a suspension that
 * ends in {@code lost} counts as lost (a frozen process prints both only once it runs again). Two
 * holds of a partition must not overlap, per incarnation (agent and session, from the {@code
 * session} of each {@code assigned} line), checked by {@link StrictHistory}; see {@link #check} for
 * why a hold ended by {@code lost} counts only from its start. A revocation that the agent follows
 * with {@code lost} before anything else counts as lost too (see {@link #holds}). An agent killed
 * with SIGKILL ends its holds when it was killed.
 */
public final class AgentHistory {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One agent's hold of one partition. */
  public record Hold(
      String agent, long session, int partition, long token, long start, long end, String why) {}

  private AgentHistory() {}

  /** The partitions of an assigned, revoked or lost line, from its ranges. */
  public static List<Integer> partitions(JsonNode n) {
    return PartitionRanges.parse(n.get("ranges").asText());
  }

  /** The token of each partition of an assigned line, from its token ranges. */
  public static Map<Integer, Long> tokens(JsonNode n) {
    Map<Integer, Long> out = new java.util.TreeMap<>();
    for (JsonNode t : n.get("tokenRanges")) {
      for (int p : PartitionRanges.parse(t.get("ranges").asText())) {
        out.put(p, t.get("token").asLong());
      }
    }
    return out;
  }

  /** Partitions each live agent (not in {@code ended}) holds now, replaying its events. */
  public static Map<String, Set<Integer>> current(
      List<Processes.Child> agents, Map<String, Long> ended) throws Exception {
    Map<String, Set<Integer>> held = new HashMap<>();
    for (Processes.Child a : agents) {
      if (ended.containsKey(a.name)) {
        continue;
      }
      Set<Integer> mine = new HashSet<>();
      Set<Integer> paused = new HashSet<>();
      for (String line : List.copyOf(a.lines)) {
        JsonNode n = JSON.readTree(line);
        switch (n.path("event").asText()) {
          case "assigned" -> mine.addAll(partitions(n));
          case "revoked" ->
              partitions(n)
                  .forEach(
                      p -> {
                        // Revoked while suspended: it does not come back on resume.
                        mine.remove(p);
                        paused.remove(p);
                      });
          case "lost" -> {
            mine.clear();
            paused.clear();
          }
          case "suspended" -> {
            paused.addAll(mine);
            mine.clear();
          }
          case "resumed" -> {
            mine.addAll(paused);
            paused.clear();
          }
          default -> {}
        }
      }
      held.put(a.name, mine);
    }
    return held;
  }

  /** Describes who holds how much now, and each agent's last lines, for a failure message. */
  public static String describe(List<Processes.Child> agents, Map<String, Long> ended)
      throws Exception {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Set<Integer>> e : current(agents, ended).entrySet()) {
      sb.append(e.getKey()).append(" holds ").append(e.getValue().size()).append('\n');
    }
    for (Processes.Child a : agents) {
      List<String> lines = List.copyOf(a.lines);
      sb.append(a.name)
          .append(a.process.isAlive() ? " (alive)" : " (dead)")
          .append(" last: ")
          .append(lines.subList(Math.max(0, lines.size() - 3), lines.size()))
          .append('\n');
    }
    return sb.toString();
  }

  /** Whether the live agents hold every partition exactly once. */
  public static boolean complete(
      List<Processes.Child> agents, Map<String, Long> ended, int partitions) throws Exception {
    Set<Integer> all = new HashSet<>();
    int count = 0;
    for (Set<Integer> s : current(agents, ended).values()) {
      all.addAll(s);
      count += s.size();
    }
    return all.size() == partitions && count == partitions;
  }

  /** Every hold of every agent, open ones ending at {@link Long#MAX_VALUE}. */
  public static List<Hold> holds(List<Processes.Child> agents, Map<String, Long> ended)
      throws Exception {
    List<Hold> holds = new ArrayList<>();
    for (Processes.Child a : agents) {
      Map<Integer, long[]> open = new HashMap<>();
      Map<Integer, Long> paused = new HashMap<>();
      long session = 0; // of the last assigned line: grants are held in one session until lost
      // Holds a suspension ended: a frozen process prints "suspended" only once it runs again, so
      // when "lost" follows before "resumed", those holds ended with the lost session instead.
      List<Hold> suspended = new ArrayList<>();
      // Holds a revocation ended: when the next thing the agent says is "lost" (nothing assigned or
      // resumed in between), it was running again after a freeze, working through events queued
      // before it; on the server its grants had ended with its session, which is what let the
      // successor activate, so those holds count as lost (fenced by the successor's higher token).
      // A protocol bug (a successor active while the old owner's session lives) shows no "lost".
      List<Hold> revoked = new ArrayList<>();
      for (String line : List.copyOf(a.lines)) {
        JsonNode n = JSON.readTree(line);
        long ts = n.path("ts").asLong();
        String event = n.path("event").asText();
        switch (event) {
          case "assigned" -> {
            holds.addAll(revoked);
            revoked.clear();
            session = Long.parseUnsignedLong(n.path("session").asText("0"), 16);
            tokens(n).forEach((p, token) -> open.put(p, new long[] {token, ts}));
          }
          case "revoked" -> {
            for (int p : partitions(n)) {
              long[] h = open.remove(p);
              if (h != null) {
                revoked.add(new Hold(a.name, session, p, h[0], h[1], ts, "revoked"));
              }
              paused.remove(p); // revoked while suspended: not resumed
            }
          }
          case "suspended" -> {
            long held = session;
            open.forEach(
                (p, h) -> {
                  suspended.add(new Hold(a.name, held, p, h[0], h[1], ts, "suspended"));
                  paused.put(p, h[0]);
                });
            open.clear();
          }
          case "resumed" -> {
            holds.addAll(suspended);
            suspended.clear();
            holds.addAll(revoked);
            revoked.clear();
            paused.forEach((p, token) -> open.put(p, new long[] {token, ts}));
            paused.clear();
          }
          case "lost" -> {
            for (Hold h : suspended) {
              holds.add(
                  new Hold(
                      h.agent(), h.session(), h.partition(), h.token(), h.start(), ts, "lost"));
            }
            suspended.clear();
            for (Hold h : revoked) {
              holds.add(
                  new Hold(
                      h.agent(),
                      h.session(),
                      h.partition(),
                      h.token(),
                      h.start(),
                      h.end(),
                      "lost"));
            }
            revoked.clear();
            long lostSession = session;
            open.forEach(
                (p, h) -> holds.add(new Hold(a.name, lostSession, p, h[0], h[1], ts, "lost")));
            open.clear();
            paused.clear();
          }
          default -> {}
        }
      }
      holds.addAll(suspended);
      holds.addAll(revoked);
      long end = ended.getOrDefault(a.name, Long.MAX_VALUE);
      long last = session;
      open.forEach(
          (p, h) ->
              holds.add(
                  new Hold(
                      a.name,
                      last,
                      p,
                      h[0],
                      h[1],
                      end,
                      end == Long.MAX_VALUE ? "open" : "killed")));
    }
    return holds;
  }

  /**
   * Checks every hold with {@link StrictHistory}, per incarnation (agent and session): a hold is
   * the agent being told it holds the partition, from {@code assigned} (or {@code resumed}) to the
   * callback that ended it, or to its SIGKILL. A hold ended by {@code lost} counts only from its
   * start: the callback reports the end late (a frozen process prints it once it runs again), while
   * the agent's session lease had already stopped its grants before the server could end the
   * session, which is what let the successor in. Nothing else is excused: no session end is
   * recorded, so any overlap of two incarnations fails, as does a token that did not rise. Also
   * asserts that every partition was held and that its last hold is open.
   */
  public static void check(List<Processes.Child> agents, Map<String, Long> ended, int partitions)
      throws Exception {
    StrictHistory history = StrictHistory.withClock(() -> System.currentTimeMillis() * 1_000_000);
    Map<Integer, List<Hold>> byPartition = new HashMap<>();
    for (Hold h : holds(agents, ended)) {
      byPartition.computeIfAbsent(h.partition(), k -> new ArrayList<>()).add(h);
      Incarnation who = new Incarnation(h.agent(), h.session());
      history.grantRead(who, h.partition(), h.token(), h.start() * 1_000_000);
      if (!h.why().equals("lost") && h.end() != Long.MAX_VALUE) {
        history.grantRead(who, h.partition(), h.token(), h.end() * 1_000_000);
      }
    }
    assertThat(byPartition).hasSize(partitions);
    history.assertStrict(java.time.Duration.ZERO);
    for (List<Hold> list : byPartition.values()) {
      list.sort(Comparator.comparingLong(Hold::start).thenComparingLong(Hold::token));
      assertThat(list.get(list.size() - 1).why()).as("last hold %s", list).isEqualTo("open");
    }
  }
}
