package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.simulator.Cli;
import io.ringwork.simulator.cli.ZooKeeperClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ringwork inspect} against a live group: stable, mid-handoff, with locks, corrupt nodes.
 */
final class InspectCommandTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private TestingServer server;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    server.close();
  }

  private Rebalancer worker(String id, OwnershipListener listener) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of(id))
            .connectString(server.getConnectString())
            .sessionTimeout(Duration.ofSeconds(4))
            .partitions(16)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(10))
            .metrics(new MetricRegistry())
            .listener(listener)
            .build();
    open.add(0, r);
    r.start();
    return r;
  }

  private KeyLocks foreign(String id) throws Exception {
    CuratorFramework c = ZooKeeperClients.connect(server.getConnectString());
    open.add(0, c);
    KeyLocks l = KeyLocks.newBuilder().client(c).group("g").memberId(id).build();
    open.add(0, l);
    l.start();
    return l;
  }

  private JsonNode inspect(String... more) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "inspect",
                "--connect",
                server.getConnectString(),
                "--group",
                "g",
                "--format",
                "json"));
    args.addAll(List.of(more));
    Cli.Result r = Cli.runAlongside(args.toArray(String[]::new));
    assertThat(r.status()).as(r.err()).isZero();
    return JSON.readTree(r.out());
  }

  @Test
  void liveGroup_membersHandoffAndLocks_asJson() throws Exception {
    AtomicBoolean slow = new AtomicBoolean();
    Rebalancer w1 = worker("w1", new OwnershipListener() {});
    Rebalancer w2 =
        worker(
            "w2",
            new OwnershipListener() {
              @Override
              public void onRevoked(Set<Integer> partitions) {
                if (slow.get()) {
                  try {
                    Thread.sleep(3000); // a handoff that takes a while
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }
              }
            });
    assertThat(w1.awaitStable(Duration.ofSeconds(20))).isTrue();
    assertThat(w2.awaitStable(Duration.ofSeconds(20))).isTrue();

    JsonNode stable = inspect();
    assertThat(stable.path("format").asInt()).isEqualTo(1);
    assertThat(stable.path("strategy").asText()).isEqualTo("balanced");
    assertThat(stable.path("partitions").asInt()).isEqualTo(16);
    assertThat(stable.path("handoff").path("inProgress").asBoolean()).isFalse();
    assertThat(stable.path("members")).hasSize(2);
    int sum = 0;
    for (JsonNode m : stable.path("members")) {
      sum += m.path("partitions").asInt();
      assertThat(m.path("quota").asDouble()).isEqualTo(8.0);
      assertThat(m.path("acknowledged").asText())
          .isEqualTo(stable.path("handoff").path("state").asText());
    }
    assertThat(sum).isEqualTo(16);
    assertThat(stable.path("leader").asText()).isIn("w1", "w2");

    // Locks: a holder and a waiter, in order.
    KeyLocks api = foreign("api");
    KeyLocks api2 = foreign("api2");
    LockHandle held = api.acquire("node-1", LockMode.EXCLUSIVE, Duration.ofSeconds(10));
    CompletableFuture<LockHandle> waiting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return api2.acquire("node-1", LockMode.SHARED, Duration.ofSeconds(20));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await().atMost(Duration.ofSeconds(10)).until(() -> api.inspect("node-1").waiters().size() == 1);
    JsonNode withLocks = inspect("--key", "node-1");
    JsonNode lock = withLocks.path("locks").get(0);
    assertThat(lock.path("key").asText()).isEqualTo("node-1");
    assertThat(lock.path("owner").asText()).isIn("w1", "w2");
    assertThat(lock.path("holders").get(0).path("member").asText()).isEqualTo("api");
    assertThat(lock.path("holders").get(0).path("token").asLong()).isEqualTo(held.token());
    assertThat(lock.path("waiters").get(0).path("member").asText()).isEqualTo("api2");
    assertThat(lock.path("waiters").get(0).path("mode").asText()).isEqualTo("shared");
    JsonNode key = withLocks.path("key");
    assertThat(key.path("partition").asInt()).isEqualTo(api.partition("node-1"));
    assertThat(key.path("owners").get(0).asText()).isEqualTo(lock.path("owner").asText());

    // A corrupt lock node is reported, and inspect still answers.
    CuratorFramework raw = ZooKeeperClients.connect(server.getConnectString());
    open.add(0, raw);
    raw.setData().forPath(held.path(), "{oops".getBytes(StandardCharsets.UTF_8));
    JsonNode corrupt = inspect();
    assertThat(corrupt.path("problems").toString()).contains(held.path());
    held.release();
    waiting.get(20, TimeUnit.SECONDS).release();

    // Mid-handoff: w2's onRevoked takes 3 s when w3 joins.
    slow.set(true);
    CompletableFuture<Rebalancer> w3 =
        CompletableFuture.supplyAsync(() -> worker("w3", new OwnershipListener() {}));
    boolean sawHandoff = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!sawHandoff && System.nanoTime() < deadline) {
      JsonNode r = inspect();
      if (r.path("handoff").path("inProgress").asBoolean()) {
        sawHandoff = true;
        assertThat(r.path("handoff").path("pending").toString()).contains("\"member\"");
      }
    }
    assertThat(sawHandoff).as("inspect saw the handoff in progress").isTrue();
    Rebalancer third = w3.get(20, TimeUnit.SECONDS);
    assertThat(third.awaitStable(Duration.ofSeconds(30))).isTrue();
    assertThat(inspect().path("handoff").path("inProgress").asBoolean()).isFalse();
  }

  @Test
  void badInput_exit2() {
    Cli.Result r =
        Cli.runAlongside(
            "inspect", "--connect", server.getConnectString(), "--group", "g", "--count", "2");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--count N");
    r = Cli.runAlongside("inspect", "--connect", server.getConnectString(), "--group", "nope");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("no such group");
  }
}
