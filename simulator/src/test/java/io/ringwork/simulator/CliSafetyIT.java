package io.ringwork.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.simulator.cli.ZooKeeperClients;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CLI is safe with typos and signals (issue 23), through the built jar against a real
 * ZooKeeper: a missing group is refused and not created, a signalled lock is released, a wrong port
 * fails within --connect-timeout, a restarted id waits for its old session, the embedded server is
 * not taken down silently, and {@code ringwork zookeeper} serves a group.
 */
final class CliSafetyIT {

  /** Generous: on a loaded 2-core machine a JVM start alone has taken over 15 s. */
  private static final Duration WAIT = Duration.ofSeconds(120);

  private TestingServer server;
  private Rebalancer worker;

  record Run(int status, String output, long millis) {}

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true);
  }

  @AfterEach
  void stop() throws Exception {
    if (worker != null) {
      worker.close();
    }
    server.close();
  }

  /** A live group "g" with one worker, as an agent would create it. */
  private void group() throws InterruptedException {
    worker =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of("w1"))
            .connectString(server.getConnectString())
            .partitions(16)
            .build();
    worker.start();
    assertThat(worker.awaitStable(WAIT)).isTrue();
  }

  private static Run run(String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of(RingworkJarIT.java(), "-jar", RingworkJarIT.jar().toString()));
    command.addAll(List.of(args));
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out, (System.nanoTime() - t0) / 1_000_000);
  }

  /** Whether a Linux process ignores a signal (its SigIgn mask in /proc). */
  private static boolean ignores(Process p, int signal) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
      if (line.startsWith("SigIgn:")) {
        long mask = Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16);
        return (mask & (1L << (signal - 1))) != 0;
      }
    }
    return false;
  }

  private static boolean printed(Processes.Child c, String text) {
    return c.lines.stream().anyMatch(l -> l.contains(text));
  }

  @Test
  void missingGroup_everyReadingOrLockingCommandExits2_andNothingIsCreated() throws Exception {
    String zk = server.getConnectString();
    for (String[] args :
        List.of(
            new String[] {"lock", "--connect", zk, "--group", "typo", "--id", "x", "--key", "k"},
            new String[] {"locks", "--connect", zk, "--group", "typo"},
            new String[] {"inspect", "--connect", zk, "--group", "typo"},
            new String[] {"members", "--connect", zk, "--group", "typo"},
            new String[] {"lookup", "--connect", zk, "--group", "typo", "k"})) {
      Run r = run(args);
      assertThat(r.status()).as(String.join(" ", args) + "\n" + r.output()).isEqualTo(2);
      assertThat(r.output()).contains("typo");
    }
    try (CuratorFramework client = ZooKeeperClients.connect(zk)) {
      assertThat(client.checkExists().forPath("/ringwork/typo")).isNull();
    }
  }

  @Test
  void lockHeld_sigtermOrSigint_releasesAndPrintsReleased() throws Exception {
    group();
    try (Processes processes = new Processes()) {
      for (String sent : List.of("TERM", "INT")) {
        String signal = sent;
        Processes.Child holder =
            processes.ringwork(
                "holder-" + signal,
                "lock",
                "--connect",
                server.getConnectString(),
                "--group",
                "g",
                "--id",
                "holder",
                "--key",
                "k",
                "--hold",
                "600000");
        await().atMost(WAIT).until(() -> printed(holder, "\"acquired\""));
        assertThat(holder.lines.get(0)).contains("\"format\":1");
        if (signal.equals("INT") && ignores(holder.process, 2)) {
          // Started with SIGINT ignored (a background job without job control), the JVM keeps
          // ignoring it, as Unix tools do; there only SIGTERM reaches it.
          signal = "TERM";
        }
        holder.signal(signal);
        assertThat(holder.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(holder.lines.get(holder.lines.size() - 1))
            .contains("\"event\":\"released\"", "\"outcome\":\"RELEASED\"", "\"signal\":true");
        // Released at once: the lock is free before the holder's session could have expired.
        assertThat(worker.locks().inspect("k").holders()).isEmpty();
      }
    }
  }

  @Test
  void wrongPort_failsWithinTheConnectTimeout() throws Exception {
    String nobody = "127.0.0.1:" + Processes.freePort();
    for (String command : List.of("members", "locks", "inspect")) {
      Run r = run(command, "--connect", nobody, "--group", "g", "--connect-timeout", "500");
      assertThat(r.status()).as(r.output()).isEqualTo(1);
      // The wait used is the one given (the default is 10 s); wall time is not asserted, since a
      // JVM start on a loaded machine varies by more than the difference.
      assertThat(r.output()).contains("within 0.5 s (--connect-timeout)");
    }
    Run bad = run("members", "--connect", nobody, "--group", "g", "--connect-timeout", "0");
    assertThat(bad.status()).isEqualTo(2);
    assertThat(bad.output()).contains("--connect-timeout must be between 1 and 600000 ms, got 0");
  }

  /**
   * The id is held by a session of this test's own, as a {@code kill -9}'d agent's lingers until it
   * expires; the test ends it when it chooses, so no JVM start time races a session timeout.
   */
  @Test
  void idHeldByAnotherSession_duplicateIsOneLine_waitForIdJoinsWhenThatSessionEnds()
      throws Exception {
    String zk = server.getConnectString();
    String[] agent = {"agent", "--connect", zk, "--group", "g", "--id", "a", "--partitions", "16"};
    CuratorFramework old = ZooKeeperClients.connect(zk);
    try (Processes processes = new Processes()) {
      old.create()
          .creatingParentsIfNeeded()
          .withMode(CreateMode.EPHEMERAL)
          .forPath("/ringwork/g/members/a", "{}".getBytes(StandardCharsets.UTF_8));

      Run refused = run(agent);
      assertThat(refused.status()).isEqualTo(1);
      List<String> ours = refused.output().lines().filter(l -> l.startsWith("ringwork:")).toList();
      assertThat(ours).hasSize(1);
      assertThat(ours.get(0)).contains("member id 'a' is already held by a live session");
      assertThat(refused.output()).doesNotContain("\tat ");

      List<String> waiting = new ArrayList<>(List.of(agent));
      waiting.addAll(List.of("--wait-for-id", "300s"));
      Processes.Child second = processes.ringworkWithErr("second", waiting.toArray(String[]::new));
      await().atMost(WAIT).until(() -> printed(second, "waiting up to 300.0 s"));
      assertThat(printed(second, "\"started\"")).isFalse();
      old.close(); // the old session ends
      await().atMost(WAIT).until(() -> printed(second, "\"assigned\""));
    } finally {
      old.close();
    }
  }

  @Test
  void embeddedAgent_firstSignalRefusedWhileOthersUseIt_secondStops_forceStopsAtOnce()
      throws Exception {
    try (Processes processes = new Processes()) {
      int port = Processes.freePort();
      Processes.Child host =
          processes.ringworkWithErr(
              "host",
              "agent",
              "--embedded",
              "--port",
              Integer.toString(port),
              "--group",
              "e",
              "--id",
              "host",
              "--partitions",
              "16");
      await().atMost(WAIT).until(() -> printed(host, "\"assigned\""));
      assertThat(host.lines)
          .anyMatch(l -> l.contains("for a lasting group run 'ringwork zookeeper'"));
      Processes.Child guest =
          processes.ringwork(
              "guest",
              "agent",
              "--connect",
              "127.0.0.1:" + port,
              "--group",
              "e",
              "--id",
              "guest",
              "--partitions",
              "16");
      await().atMost(WAIT).until(() -> printed(guest, "\"assigned\""));

      host.signal("TERM");
      await().atMost(WAIT).until(() -> printed(host, "not stopping"));
      assertThat(host.lines).anyMatch(l -> l.contains("[e/guest]"));
      assertThat(host.process.waitFor(2, TimeUnit.SECONDS)).as("refused").isFalse();
      host.signal("TERM");
      assertThat(host.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(host.process.exitValue()).isZero();
      assertThat(host.lines).anyMatch(l -> l.contains("warning: stopping the embedded ZooKeeper"));
    }
  }

  @Test
  void zookeeperCommand_servesAGroup_andStopsOnSigterm() throws Exception {
    try (Processes processes = new Processes()) {
      int port = Processes.freePort();
      Processes.Child zk = processes.ringwork("zk", "zookeeper", "--port", Integer.toString(port));
      await().atMost(WAIT).until(() -> printed(zk, "\"started\""));
      assertThat(zk.lines.get(0)).contains("\"connect\":\"127.0.0.1:" + port + "\"");
      Processes.Child agent =
          processes.ringwork(
              "a",
              "agent",
              "--connect",
              "127.0.0.1:" + port,
              "--group",
              "z",
              "--id",
              "a",
              "--partitions",
              "16");
      await().atMost(WAIT).until(() -> printed(agent, "\"assigned\""));
      Run members = run("members", "--connect", "127.0.0.1:" + port, "--group", "z");
      assertThat(members.status()).as(members.output()).isZero();
      agent.signal("TERM");
      assertThat(agent.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      zk.signal("TERM");
      assertThat(zk.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(zk.process.exitValue()).isZero();
      assertThat(zk.lines.get(zk.lines.size() - 1)).contains("\"stopped\"");
    }
  }

  @Test
  void help_summariesAreWholeSentences_demoShowsDefaults() throws Exception {
    Run top = run("--help");
    String help = top.output().replaceAll("\\s+", " ");
    assertThat(help)
        .contains("lock Take a per-key lock in an existing group, hold it and release it.")
        .contains("locks List a group's per-key locks and waiters, or break a lock with --force.")
        .contains("inspect Show a live group: members, handoff, load against quota and locks.")
        .contains(
            "demo Run a live group on a fenced SQL ledger through seeded faults, then give a"
                + " verdict.")
        .contains("zookeeper Run a plain local ZooKeeper server");
    Run demo = run("demo", "--help");
    assertThat(demo.output())
        .contains("Default: 30s")
        .contains("Default: 5")
        .contains("Default: 10000")
        .contains("Default: [join, drain, crash, pause, leader,");
  }
}
