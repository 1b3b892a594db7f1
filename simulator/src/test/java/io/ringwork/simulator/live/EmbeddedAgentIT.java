package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.simulator.AgentHistory;
import io.ringwork.simulator.Cli;
import io.ringwork.simulator.Processes;
import io.ringwork.simulator.RingworkJarIT;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 8: {@code ringwork agent --embedded --port P} says where its server is, so that a
 * second agent and {@code ringwork members} can join the demo.
 */
final class EmbeddedAgentIT {

  @Test
  void embeddedAgent_printsItsConnectString_andOthersJoinIt() throws Exception {
    int port = Processes.freePort();
    String connect = "127.0.0.1:" + port;
    try (Processes processes = new Processes()) {
      Processes.Child first =
          processes.ringwork(
              "a1",
              "agent",
              "--embedded",
              "--port",
              Integer.toString(port),
              "--group",
              "demo",
              "--id",
              "a1",
              "--partitions",
              "16");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  first.lines.stream()
                      .anyMatch(
                          l ->
                              l.contains("\"event\":\"started\"")
                                  && l.contains("\"connect\":\"" + connect + "\"")));
      Processes.Child second =
          processes.ringwork(
              "a2",
              "agent",
              "--connect",
              connect,
              "--group",
              "demo",
              "--id",
              "a2",
              "--partitions",
              "16");
      List<Processes.Child> agents = List.of(first, second);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  AgentHistory.complete(agents, Map.of(), 16)
                      && !AgentHistory.current(agents, Map.of()).get("a2").isEmpty());
      Process members =
          new ProcessBuilder(
                  RingworkJarIT.java(),
                  "-jar",
                  RingworkJarIT.jar().toString(),
                  "members",
                  "--connect",
                  connect,
                  "--group",
                  "demo",
                  "--format",
                  "json")
              .redirectErrorStream(true)
              .start();
      String out = new String(members.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(members.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(members.exitValue()).as(out).isZero();
      assertThat(out).contains("\"a1\"").contains("\"a2\"");

      // Issue 13, item 9: lookup --connect answers from the table in force, as the agents hold it.
      Map<String, java.util.Set<Integer>> held = AgentHistory.current(agents, Map.of());
      io.ringwork.ring.Partitioner partitioner = io.ringwork.ring.Partitioner.of(16);
      List<String> keys = new java.util.ArrayList<>();
      for (int i = 0; i < 50; i++) {
        keys.add("node-" + i);
      }
      List<String> args =
          new java.util.ArrayList<>(List.of("lookup", "--connect", connect, "--group", "demo"));
      args.addAll(keys);
      Cli.Result lookup = Cli.run(args.toArray(String[]::new));
      assertThat(lookup.status()).as(lookup.err()).isZero();
      List<String> lines = lookup.out().strip().lines().toList();
      assertThat(lines).hasSize(keys.size());
      for (String line : lines) {
        String[] kv = line.split("\t");
        assertThat(held.get(kv[1]))
            .as("%s is answered %s", kv[0], kv[1])
            .contains(partitioner.partition(kv[0]));
      }

      // Issue 13, item 10: a group that does not exist is an input error, not an empty table.
      Cli.Result none = Cli.run("members", "--connect", connect, "--group", "nope");
      assertThat(none.status()).isEqualTo(2);
      assertThat(none.err()).contains("no such group").contains("/ringwork/nope");
    }
  }
}
