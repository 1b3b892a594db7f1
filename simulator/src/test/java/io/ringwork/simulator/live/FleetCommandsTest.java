package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.simulator.Cli;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ringwork pause}, {@code resume} and {@code drain} against a live group, and what {@code
 * inspect} and {@code members} show of them (issue 19).
 */
final class FleetCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration STABLE = Duration.ofSeconds(20);
  private TestingServer server;
  private final List<Rebalancer> workers = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true);
  }

  @AfterEach
  void stop() throws Exception {
    workers.forEach(Rebalancer::close);
    server.close();
  }

  private Rebalancer worker(String id) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of(id))
            .connectString(server.getConnectString())
            .sessionTimeout(Duration.ofSeconds(4))
            .partitions(16)
            .settleDelay(Duration.ofMillis(50))
            .restartGrace(Duration.ofMinutes(5))
            .build();
    workers.add(r);
    r.start();
    return r;
  }

  private Cli.Result cli(String command, String... more) {
    List<String> args =
        new ArrayList<>(List.of(command, "--connect", server.getConnectString(), "--group", "g"));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  private JsonNode inspect() throws Exception {
    Cli.Result r = cli("inspect", "--format", "json");
    assertThat(r.status()).as(r.err()).isZero();
    return JSON.readTree(r.out());
  }

  @Test
  void pauseAndResume_shownByInspect() throws Exception {
    Rebalancer a = worker("a");
    worker("b");
    assertThat(a.awaitStable(STABLE)).isTrue();
    Cli.Result paused = cli("pause", "--for", "10m", "--reason", "db upgrade", "--by", "ops");
    assertThat(paused.status()).as(paused.err()).isZero();
    JsonNode line = JSON.readTree(paused.out());
    assertThat(line.path("event").asText()).isEqualTo("paused");
    assertThat(line.path("until").asLong() - line.path("since").asLong()).isEqualTo(600_000);
    JsonNode report = inspect();
    assertThat(report.path("pause").path("reason").asText()).isEqualTo("db upgrade");
    assertThat(report.path("pause").path("by").asText()).isEqualTo("ops");
    assertThat(report.path("pause").path("members").toString()).isEqualTo("[\"a\",\"b\"]");
    Cli.Result table = cli("inspect");
    assertThat(table.out()).contains("PAUSED until").contains("db upgrade");

    Cli.Result resumed = cli("resume");
    assertThat(resumed.status()).isZero();
    assertThat(JSON.readTree(resumed.out()).path("wasPaused").asBoolean()).isTrue();
    assertThat(inspect().path("pause").isNull()).isTrue();
    assertThat(JSON.readTree(cli("resume").out()).path("wasPaused").asBoolean()).isFalse();
  }

  @Test
  void drain_movesTheMembersWork_undoGivesItBack_unknownMemberExits2() throws Exception {
    Rebalancer a = worker("a");
    Rebalancer b = worker("b");
    assertThat(a.awaitStable(STABLE)).isTrue();
    assertThat(b.awaitStable(STABLE)).isTrue();

    Cli.Result unknown = cli("drain", "--member", "zz");
    assertThat(unknown.status()).isEqualTo(2);
    assertThat(unknown.err()).contains("zz").contains("[a, b]");

    Cli.Result drained = cli("drain", "--member", "b");
    assertThat(drained.status()).as(drained.err()).isZero();
    await().atMost(STABLE).until(() -> b.ownedPartitions().isEmpty());
    await().atMost(STABLE).until(() -> a.ownedPartitions().size() == 16);
    JsonNode report = inspect();
    assertThat(report.path("drainRequests").get(0).path("member").asText()).isEqualTo("b");
    JsonNode rowB = report.path("members").get(1);
    assertThat(rowB.path("drainRequested").asBoolean()).isTrue();
    assertThat(rowB.path("draining").asBoolean()).isTrue();

    Cli.Result undone = cli("drain", "--member", "b", "--undo");
    assertThat(undone.status()).isZero();
    await().atMost(STABLE).until(() -> !b.ownedPartitions().isEmpty());
  }

  @Test
  void restartReservation_shownByInspectAndMembers() throws Exception {
    Rebalancer a = worker("a");
    Rebalancer b = worker("b");
    assertThat(a.awaitStable(STABLE)).isTrue();
    assertThat(b.awaitStable(STABLE)).isTrue();
    int held = b.ownedPartitions().size();
    b.closeForRestart();
    assertThat(a.awaitStable(STABLE)).isTrue();
    JsonNode res = inspect().path("reservations");
    assertThat(res).hasSize(2);
    JsonNode rb = res.get(1);
    assertThat(rb.path("member").asText()).isEqualTo("b");
    assertThat(rb.path("state").asText()).isEqualTo("restarting");
    assertThat(rb.path("expiresAt").asLong() - rb.path("since").asLong()).isEqualTo(300_000);
    assertThat(rb.path("partitions").asInt()).isEqualTo(held);
    assertThat(res.get(0).path("expiresAt").isNull()).isTrue();
    Cli.Result members = cli("members", "--format", "json");
    assertThat(JSON.readTree(members.out()).path("reservations").get(1).path("state").asText())
        .isEqualTo("restarting");
    assertThat(cli("members").out()).contains("reserved for b (restarting): " + held);
  }

  @Test
  void missingGroup_andBadDuration_exit2() {
    Cli.Result missing =
        Cli.run("pause", "--connect", server.getConnectString(), "--group", "nope", "--for", "1m");
    assertThat(missing.status()).isEqualTo(2);
    assertThat(missing.err()).contains("no such group");
    assertThat(
            Cli.run(
                    "drain",
                    "--connect",
                    server.getConnectString(),
                    "--group",
                    "nope",
                    "--member",
                    "x")
                .status())
        .isEqualTo(2);
    Cli.Result bad =
        Cli.run("pause", "--connect", server.getConnectString(), "--group", "g", "--for", "soon");
    assertThat(bad.status()).isEqualTo(2);
    assertThat(bad.err()).contains("--for");
  }
}
