package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.AgentHistory;
import io.ringwork.simulator.Processes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * Separate {@code ringwork agent} JVMs under SIGKILL, SIGSTOP beyond the session timeout then
 * SIGCONT, and SIGTERM, with a history checker over the events they print.
 */
final class AgentProcessesIT {

  private static final int P = 256;
  // A margin: with 2 s sessions, the agent that SIGTERM drains had its session expire just before
  // the drain in 1 of the IT loop's runs at load 17 (a client starved of the CPU for 2 s), and
  // reported "complete":false, "reason":"session lost", which is right for a lost session but not
  // what this test checks. 4 s is the longest session the server allows (20 ticks of 200 ms).
  private static final int SESSION_MS = 4000;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void kill9_stopCont_term_exclusiveFencedAndComplete() throws Exception {
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1);
    try (TestingServer server = new TestingServer(spec, true);
        Processes processes = new Processes()) {
      List<Processes.Child> agents = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        agents.add(
            processes.ringwork(
                "a" + i,
                "agent",
                "--connect",
                server.getConnectString(),
                "--group",
                "it",
                "--id",
                "a" + i,
                "--partitions",
                Integer.toString(P),
                "--session-timeout",
                Integer.toString(SESSION_MS)));
      }
      Map<String, Long> ended = new HashMap<>();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> owned(agents, ended).size() == P && evenly(agents, ended, 4));

      // kill -9: its partitions come back within session timeout + 1 s (plus test slack).
      Processes.Child killed = agents.get(3);
      killed.process.destroyForcibly();
      killed.process.waitFor(10, TimeUnit.SECONDS);
      ended.put("a3", System.currentTimeMillis());
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> owned(agents, ended).size() == P && evenly(agents, ended, 3));

      // SIGSTOP longer than the session timeout, then SIGCONT: it must report lost first.
      Processes.Child frozen = agents.get(2);
      int before = frozen.lines.size();
      frozen.signal("STOP");
      long stoppedAt = System.currentTimeMillis();
      Set<String> others = Set.of("a0", "a1");
      await().atMost(Duration.ofSeconds(20)).until(() -> heldBy(agents, others).size() == P);
      // Not before the server can have ended its session: its last ping (one every third of the
      // session) was at most a third of the session before the stop.
      assertThat(System.currentTimeMillis() - stoppedAt).isGreaterThan(SESSION_MS * 2 / 3);
      frozen.signal("CONT");
      await().atMost(Duration.ofSeconds(30)).until(() -> events(frozen, before).contains("lost"));
      List<String> after = events(frozen, before);
      int lost = after.indexOf("lost");
      assertThat(after.subList(0, lost))
          .as("events of the resumed agent before lost")
          .doesNotContain("assigned", "resumed");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> owned(agents, ended).size() == P && evenly(agents, ended, 3));

      // SIGTERM drains, then exits 0.
      Processes.Child drained = agents.get(0);
      drained.signal("TERM");
      assertThat(drained.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(drained.process.exitValue()).isZero();
      assertThat(drained.lines.get(drained.lines.size() - 1))
          .contains("\"drained\"")
          .contains("\"complete\":true");
      ended.put("a0", System.currentTimeMillis());
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> owned(agents, ended).size() == P && evenly(agents, ended, 2));

      AgentHistory.check(agents, ended, P);
    }
  }

  private static List<String> events(Processes.Child c, int from) throws Exception {
    List<String> out = new ArrayList<>();
    List<String> lines = List.copyOf(c.lines);
    for (String line : lines.subList(from, lines.size())) {
      out.add(JSON.readTree(line).path("event").asText());
    }
    return out;
  }

  private static Set<Integer> owned(List<Processes.Child> agents, Map<String, Long> ended)
      throws Exception {
    Set<Integer> all = new HashSet<>();
    for (Set<Integer> s : AgentHistory.current(agents, ended).values()) {
      all.addAll(s);
    }
    return all;
  }

  private static Set<Integer> heldBy(List<Processes.Child> agents, Set<String> names)
      throws Exception {
    Set<Integer> all = new HashSet<>();
    AgentHistory.current(agents, Map.of())
        .forEach(
            (name, s) -> {
              if (names.contains(name)) {
                all.addAll(s);
              }
            });
    return all;
  }

  private static boolean evenly(List<Processes.Child> agents, Map<String, Long> ended, int live)
      throws Exception {
    return AgentHistory.current(agents, ended).values().stream()
        .allMatch(s -> Math.abs(s.size() - P / (double) live) <= 1);
  }
}
