package io.ringwork.simulator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerBuilder;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.simulator.Cli;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code plan --connect} on the leaderless strategies (issue 23): a rendezvous group's table is the
 * one its workers compute, a tooz group is planned over keys. The balanced case runs through the
 * jar in {@code FirstDayIT}.
 */
final class PlanConnectTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Generous for a loaded 2-core machine. */
  private static final Duration STABLE = Duration.ofSeconds(60);

  private TestingServer server;
  private final List<Rebalancer> workers = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true);
  }

  @AfterEach
  void stop() throws Exception {
    for (Rebalancer w : workers) {
      w.close();
    }
    server.close();
  }

  private void group(String strategy, String... ids) {
    for (String id : ids) {
      RebalancerBuilder b =
          Rebalancer.newBuilder()
              .group("g")
              .member(Member.of(id, id.equals("w1") ? 2 : 1, "zone-" + id))
              .strategy(strategy)
              .connectString(server.getConnectString())
              .settleDelay(Duration.ofMillis(50));
      if (strategy.equals("tooz")) {
        b.toozPoints(16);
      } else {
        b.partitions(64);
      }
      Rebalancer r = b.build();
      workers.add(r);
      r.start();
    }
    Awaitility.await()
        .atMost(STABLE)
        .until(() -> workers.stream().allMatch(w -> w.state() == Rebalancer.State.STABLE));
  }

  @Test
  void rendezvousGroup_startsFromTheTableItsWorkersCompute() throws Exception {
    group("rendezvous", "w1", "w2");
    Awaitility.await()
        .atMost(STABLE)
        .until(() -> workers.get(0).assignment().map(a -> a.members().size() == 2).orElse(false));
    Assignment live = workers.get(0).assignment().orElseThrow();
    Cli.Result r =
        Cli.run(
            "plan",
            "--connect",
            server.getConnectString(),
            "--group",
            "g",
            "--add",
            "w3",
            "--format",
            "json");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).contains("2 live workers, rendezvous assignment");
    JsonNode report = JSON.readTree(r.out());
    assertThat(report.get("strategy").asText()).isEqualTo("rendezvous");
    assertThat(report.get("partitions").asInt()).isEqualTo(64);
    JsonNode step = report.get("steps").get(0);
    assertThat(step.get("memberCount").asInt()).isEqualTo(3);
    for (JsonNode row : step.get("members")) {
      String id = row.get("id").asText();
      assertThat(row.get("before").asInt())
          .as(id)
          .isEqualTo(id.equals("w3") ? 0 : live.primaryCount(id));
    }
  }

  @Test
  void toozGroup_isPlannedOverKeys_fromItsLiveWorkers() throws Exception {
    group("tooz", "w1", "w2");
    Cli.Result r =
        Cli.run(
            "plan",
            "--connect",
            server.getConnectString(),
            "--group",
            "g",
            "--remove",
            "w2",
            "--sample-keys",
            "1000",
            "--format",
            "json");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).contains("2 live workers, tooz ring");
    JsonNode report = JSON.readTree(r.out());
    assertThat(report.get("strategy").asText()).isEqualTo("tooz");
    assertThat(report.get("unit").asText()).isEqualTo("keys");
    assertThat(report.get("partitions").asInt()).isEqualTo(16);
    assertThat(report.get("steps").get(0).get("memberCount").asInt()).isEqualTo(1);
  }
}
