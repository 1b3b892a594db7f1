package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.simulator.AgentHistory;
import io.ringwork.simulator.Processes;
import io.ringwork.simulator.RingworkJarIT;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10: agents under ZooKeeper faults on a 3-server ensemble, every server its own JVM (from
 * ZooKeeper's own Maven artifact, so it runs wherever Maven does). While {@code ringwork agent}
 * processes work and a member joins, the ensemble's leader is killed with SIGKILL, then paused with
 * SIGSTOP past the session timeout, then the quorum is taken away past the session timeout (the
 * clients replace their sessions while the servers keep the old ones), then an agent is paused past
 * its session. After each fault the group must again hold every partition exactly once; at the end
 * the printed histories must show no overlapping active grant and rising fencing tokens.
 */
final class EnsembleFaultsIT {

  private static final int P = 64;
  private static final String SESSION_MS = "2000";
  private static final Duration HEAL = Duration.ofSeconds(60);

  @TempDir Path dir;

  private final int[] clientPorts = new int[3];
  private final List<String> serverCommand = new ArrayList<>();
  private final Processes.Child[] servers = new Processes.Child[3];

  @Test
  void leaderKilledPausedQuorumLostAgentPaused_exclusiveFencedAndComplete() throws Exception {
    try (Processes processes = new Processes()) {
      writeConfigs();
      for (int i = 0; i < 3; i++) {
        servers[i] = startServer(processes, i);
      }
      await().atMost(HEAL).until(() -> leader() >= 0);
      String connect =
          String.join(
              ",", java.util.Arrays.stream(clientPorts).mapToObj(p -> "127.0.0.1:" + p).toList());
      List<Processes.Child> agents = new ArrayList<>();
      Map<String, Long> ended = new HashMap<>();
      for (int i = 0; i < 4; i++) {
        agents.add(agent(processes, connect, "a" + i));
      }
      heal(agents, ended, "started");

      // 1. The ensemble's leader is killed; a member joins meanwhile; the server comes back.
      int leader = leader();
      servers[leader].process.destroyForcibly();
      servers[leader].process.waitFor(10, TimeUnit.SECONDS);
      agents.add(agent(processes, connect, "a4"));
      heal(agents, ended, "leader killed, a4 joined");
      servers[leader] = startServer(processes, leader);
      await().atMost(HEAL).until(() -> leader() >= 0);

      // 2. The leader is paused past the session timeout, then resumed.
      leader = leader();
      servers[leader].signal("STOP");
      Thread.sleep(4000); // the fault's length, not a wait for a condition
      servers[leader].signal("CONT");
      await().atMost(HEAL).until(() -> leader() >= 0);
      heal(agents, ended, "leader paused");

      // 3. The quorum is lost past the session timeout, then restored.
      leader = leader();
      int first = (leader + 1) % 3;
      int second = (leader + 2) % 3;
      for (int i : new int[] {first, second}) {
        servers[i].process.destroyForcibly();
        servers[i].process.waitFor(10, TimeUnit.SECONDS);
      }
      Thread.sleep(4000); // the fault's length
      for (int i : new int[] {first, second}) {
        servers[i] = startServer(processes, i);
      }
      await().atMost(HEAL).until(() -> leader() >= 0);
      heal(agents, ended, "quorum lost");

      // 4. An agent is paused past its session timeout, then resumed: it reports lost and rejoins.
      Processes.Child frozen = agents.get(1);
      // Only a "lost" printed after this fault counts: the agent already printed one in the quorum
      // fault, and waiting on that one let the check run while the thawed agent had printed
      // "suspended" but not yet "lost" (its hold then seemed to end only at the suspension, after
      // its successors had activated: a failure of the test in the IT loop, not of the agent).
      int before = frozen.lines.size();
      frozen.signal("STOP");
      Thread.sleep(4000); // the fault's length
      frozen.signal("CONT");
      await()
          .atMost(HEAL)
          .until(
              () ->
                  List.copyOf(frozen.lines).stream()
                      .skip(before)
                      .anyMatch(l -> l.contains("\"event\":\"lost\"")));
      heal(agents, ended, "agent paused");

      try {
        assertThat(agents).allMatch(a -> a.process.isAlive());
        AgentHistory.check(agents, ended, P);
      } catch (AssertionError e) {
        keepLogs(agents);
        throw e;
      }
    }
  }

  /** Waits until the live agents hold every partition once; says who holds what if not. */
  private static void heal(List<Processes.Child> agents, Map<String, Long> ended, String after)
      throws Exception {
    try {
      // Settled, not only complete: every partition held once and every agent at its exact
      // balanced quota. "Complete" alone also holds just before a rejoined agent's share moves to
      // it, and the check then ran while one of those partitions was revoked and not yet active
      // (1 of 2 IT loop runs: a last hold "revoked" instead of "open"; a test race, not a gap).
      await().atMost(HEAL).until(() -> settled(agents, ended));
    } catch (ConditionTimeoutException e) {
      keepLogs(agents);
      throw new AssertionError(
          "not healed within "
              + HEAL
              + " after: "
              + after
              + "\n"
              + AgentHistory.describe(agents, ended),
          e);
    }
  }

  private static boolean settled(List<Processes.Child> agents, Map<String, Long> ended)
      throws Exception {
    if (!AgentHistory.complete(agents, ended, P)) {
      return false;
    }
    Map<String, java.util.Set<Integer>> held = AgentHistory.current(agents, ended);
    int n = held.size();
    return held.values().stream().allMatch(s -> s.size() == P / n || s.size() == (P + n - 1) / n);
  }

  /** Keeps every agent's events in target/ensemble-faults for diagnosis. */
  private static void keepLogs(List<Processes.Child> agents) throws java.io.IOException {
    Path logs = Files.createDirectories(Path.of("target", "ensemble-faults"));
    for (Processes.Child a : agents) {
      Files.write(logs.resolve(a.name + ".jsonl"), List.copyOf(a.lines));
    }
  }

  private Processes.Child agent(Processes processes, String connect, String id) throws Exception {
    return processes.ringwork(
        id,
        "agent",
        "--connect",
        connect,
        "--group",
        "faults",
        "--id",
        id,
        "--partitions",
        Integer.toString(P),
        "--session-timeout",
        SESSION_MS,
        // A member may join while the ensemble elects a leader: let it wait for one.
        "--connect-timeout",
        "30000");
  }

  private void writeConfigs() throws Exception {
    int[] quorum = new int[3];
    int[] election = new int[3];
    for (int i = 0; i < 3; i++) {
      clientPorts[i] = Processes.freePort();
      quorum[i] = Processes.freePort();
      election[i] = Processes.freePort();
    }
    StringBuilder peers = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      peers.append(String.format("server.%d=127.0.0.1:%d:%d%n", i + 1, quorum[i], election[i]));
    }
    for (int i = 0; i < 3; i++) {
      Path data = Files.createDirectories(dir.resolve("s" + (i + 1)));
      Files.writeString(data.resolve("myid"), Integer.toString(i + 1));
      Files.writeString(
          dir.resolve("zoo" + (i + 1) + ".cfg"),
          "tickTime=200\ninitLimit=20\nsyncLimit=10\ndataDir="
              + data
              + "\nclientPort="
              + clientPorts[i]
              + "\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
              + "4lw.commands.whitelist=srvr,ruok\nmaxSessionTimeout=20000\n"
              + peers);
    }
    serverCommand.addAll(
        List.of(
            RingworkJarIT.java(),
            "-Xmx128m",
            "-cp",
            System.getProperty("java.class.path"),
            "org.apache.zookeeper.server.quorum.QuorumPeerMain"));
  }

  private Processes.Child startServer(Processes processes, int i) throws Exception {
    List<String> command = new ArrayList<>(serverCommand);
    command.add(dir.resolve("zoo" + (i + 1) + ".cfg").toString());
    return processes.start("zk" + (i + 1), command);
  }

  /** The index of the server that reports itself leader, or -1. */
  private int leader() {
    for (int i = 0; i < 3; i++) {
      if (servers[i] != null
          && servers[i].process.isAlive()
          && mode(clientPorts[i]).equals("leader")) {
        return i;
      }
    }
    return -1;
  }

  private static String mode(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write("srvr".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.startsWith("Mode: ")) {
          return line.substring("Mode: ".length()).trim();
        }
      }
    } catch (Exception e) {
      return "down";
    }
    return "unknown";
  }
}
