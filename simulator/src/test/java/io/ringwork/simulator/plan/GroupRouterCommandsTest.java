package io.ringwork.simulator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.simulator.Cli;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 23, item 3: {@code locks --key}, {@code inspect --key}, {@code lookup --connect} and {@code
 * lock} route keys with the router stored in the group's config, without {@code --route-until}; a
 * contradicting {@code --route-until} exits 2. And {@code inspect --watch} waits for a group that
 * does not exist yet.
 */
final class GroupRouterCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration STABLE = Duration.ofSeconds(30);

  private TestingServer server;
  private Rebalancer worker;

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

  private Rebalancer stacks() throws InterruptedException {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("stacks")
            .member(Member.of("w1"))
            .connectString(server.getConnectString())
            .partitions(64)
            .settleDelay(Duration.ofMillis(50))
            .router(KeyRouter.upTo('/'))
            .build();
    r.start();
    assertThat(r.awaitStable(STABLE)).isTrue();
    return r;
  }

  @Test
  void locksAndInspectKey_useTheStoredRouter() throws Exception {
    worker = stacks();
    int partition = worker.grant("stack-1/nested/a").orElseThrow().partition();
    assertThat(partition).isEqualTo(worker.grant("stack-1").orElseThrow().partition());
    try (LockHandle h =
        worker.locks().acquire("stack-1/nested/a", LockMode.EXCLUSIVE, Duration.ofSeconds(10))) {
      String zk = server.getConnectString();
      Cli.Result locks =
          Cli.runAlongside(
              "locks",
              "--connect",
              zk,
              "--group",
              "stacks",
              "--key",
              "stack-1/nested/a",
              "--format",
              "json");
      assertThat(locks.status()).as(locks.err()).isZero();
      JsonNode row = JSON.readTree(locks.out()).path("locks").get(0);
      assertThat(row.path("partition").asInt()).isEqualTo(partition);
      assertThat(row.path("holders")).hasSize(1);
      assertThat(row.path("owner").asText()).isEqualTo("w1");

      Cli.Result inspect =
          Cli.runAlongside(
              "inspect",
              "--connect",
              zk,
              "--group",
              "stacks",
              "--key",
              "stack-1/nested/a",
              "--format",
              "json");
      assertThat(inspect.status()).as(inspect.err()).isZero();
      JsonNode key = JSON.readTree(inspect.out()).path("key");
      assertThat(key.path("partition").asInt()).isEqualTo(partition);
      assertThat(key.path("holders")).hasSize(1);

      Cli.Result contradicted =
          Cli.runAlongside(
              "locks",
              "--connect",
              zk,
              "--group",
              "stacks",
              "--key",
              "stack-1/nested/a",
              "--route-until",
              ":");
      assertThat(contradicted.status()).isEqualTo(2);
      assertThat(contradicted.err())
          .contains("--route-until :")
          .contains("routes keys up to the first '/'");
    }
  }

  @Test
  void lockSubtree_andLookup_useTheStoredRouter() throws Exception {
    worker = stacks();
    String zk = server.getConnectString();
    Cli.Result lock =
        Cli.runAlongside(
            "lock",
            "--connect",
            zk,
            "--group",
            "stacks",
            "--id",
            "admin",
            "--key",
            "stack-2",
            "--subtree");
    assertThat(lock.status()).as(lock.err()).isZero();
    int partition = worker.grant("stack-2").orElseThrow().partition();
    assertThat(
            JSON.readTree(lock.out().lines().findFirst().orElseThrow()).path("partition").asInt())
        .isEqualTo(partition);

    Cli.Result lookup =
        Cli.runAlongside("lookup", "--connect", zk, "--group", "stacks", "stack-2/x");
    assertThat(lookup.status()).as(lookup.err()).isZero();
    assertThat(lookup.out().strip()).isEqualTo("stack-2/x\tw1");
  }

  @Test
  void inspectWatch_waitsForAGroupThatDoesNotExistYet() throws Exception {
    CompletableFuture<Cli.Result> watching =
        CompletableFuture.supplyAsync(
            () ->
                Cli.runAlongside(
                    "inspect",
                    "--connect",
                    server.getConnectString(),
                    "--group",
                    "stacks",
                    "--watch",
                    "--count",
                    "1",
                    "--format",
                    "json"));
    Cli.Result missing =
        Cli.runAlongside("inspect", "--connect", server.getConnectString(), "--group", "stacks");
    assertThat(missing.status()).isEqualTo(2);
    assertThat(watching).isNotDone();
    worker = stacks();
    Cli.Result r = watching.get(60, TimeUnit.SECONDS);
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.err()).contains("no group at /ringwork/stacks").contains("waiting for it");
    assertThat(JSON.readTree(r.out()).path("group").asText()).isEqualTo("stacks");
  }
}
