package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.simulator.Cli;
import io.ringwork.simulator.InspectServing;
import io.ringwork.simulator.cli.ZooKeeperClients;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code ringwork inspect --serve} over HTTP: the documents, the page, and what it refuses. */
final class InspectServeTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration STABLE = Duration.ofSeconds(30);
  private TestingServer server;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(true);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    server.close();
  }

  private Rebalancer worker(String id) throws InterruptedException {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of(id))
            .connectString(server.getConnectString())
            .sessionTimeout(Duration.ofSeconds(4))
            .partitions(16)
            .settleDelay(Duration.ofMillis(50))
            .metrics(new MetricRegistry())
            .build();
    open.add(0, r);
    r.start();
    assertThat(r.awaitStable(STABLE)).isTrue();
    return r;
  }

  @Test
  void serve_liveGroup_servesInspectJsonPageMetricsAndHealth() throws Exception {
    worker("w1");
    worker("w2");
    InspectServing serving = new InspectServing(server.getConnectString(), "g");
    open.add(0, serving);
    assertThat(serving.base.getHost()).isEqualTo("127.0.0.1");

    // The same document as `inspect --format json`, once the served snapshot has caught up.
    await()
        .atMost(STABLE)
        .untilAsserted(
            () -> {
              Cli.Result cli =
                  Cli.runAlongside(
                      "inspect",
                      "--connect",
                      server.getConnectString(),
                      "--group",
                      "g",
                      "--format",
                      "json");
              HttpResponse<String> api = serving.get("/api/inspect");
              assertThat(api.statusCode()).isEqualTo(200);
              assertThat(api.headers().firstValue("Content-Type")).hasValue("application/json");
              assertThat(JSON.readTree(api.body())).isEqualTo(JSON.readTree(cli.out()));
            });
    JsonNode report = JSON.readTree(serving.get("/api/inspect").body());
    assertThat(report.path("members")).hasSize(2);

    HttpResponse<String> page = serving.get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(page.body()).contains("<title>ringwork inspect</title>", "/api/inspect");
    assertThat(page.body()).doesNotContain("src=\"http", "href=\"http", "@import");

    String metrics = serving.get("/metrics").body();
    assertThat(metrics)
        .contains("ringwork_inspect_up 1")
        .contains("ringwork_group_members{group=\"g\"} 2")
        .contains("ringwork_member_partitions{group=\"g\",member=\"w1\"} 8")
        .contains("ringwork_member_quota{group=\"g\",member=\"w2\"} 8.000");
    HttpResponse<String> health = serving.get("/healthz");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("ok\n");

    // Read-only: no transaction between two probes of ours spans several refreshes.
    try (CuratorFramework probe = ZooKeeperClients.connect(server.getConnectString())) {
      probe.create().withMode(CreateMode.EPHEMERAL).forPath("/probe-1");
      long first = probe.checkExists().forPath("/probe-1").getCzxid();
      double refreshed = refreshedAt(serving);
      await().atMost(STABLE).until(() -> refreshedAt(serving) > refreshed + 0.5);
      probe.create().withMode(CreateMode.EPHEMERAL).forPath("/probe-2");
      long second = probe.checkExists().forPath("/probe-2").getCzxid();
      assertThat(second).as("no transaction between the probes").isEqualTo(first + 1);
    }

    worker("w3");
    await().atMost(STABLE).until(() -> serving.get("/api/timeline").body().contains("w3 joined"));

    assertThat(serving.get("/nothing-here").statusCode()).isEqualTo(404);
    assertThat(serving.get("/api/inspect/extra").statusCode()).isEqualTo(404);
    HttpResponse<String> post =
        serving.send(
            HttpRequest.newBuilder(serving.base.resolve("/api/inspect"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");

    serving.close();
    assertThat(serving.status()).isZero();
  }

  private static double refreshedAt(InspectServing serving) throws Exception {
    for (String line : serving.get("/metrics").body().split("\n")) {
      if (line.startsWith("ringwork_inspect_refreshed_seconds{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no ringwork_inspect_refreshed_seconds in /metrics");
  }

  @Test
  void bind_default_isLoopbackPort8080() {
    InetSocketAddress a = InspectServer.parseBind(null);
    assertThat(a.getAddress().isLoopbackAddress()).isTrue();
    assertThat(a.getPort()).isEqualTo(8080);
  }

  @Test
  void bind_invalid_exits2NamingIt() {
    Cli.Result noServe =
        Cli.run("inspect", "--connect", "127.0.0.1:1", "--group", "g", "--bind", "127.0.0.1:0");
    assertThat(noServe.status()).isEqualTo(2);
    assertThat(noServe.err()).contains("--bind goes with --serve");
    Cli.Result badPort =
        Cli.run(
            "inspect", "--connect", "127.0.0.1:1", "--group", "g", "--serve", "--bind", "x:99999");
    assertThat(badPort.status()).isEqualTo(2);
    assertThat(badPort.err()).contains("--bind: the port must be in [0, 65535], got 'x:99999'");
  }
}
