package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.Cli;
import io.ringwork.simulator.cli.ZooKeeperClients;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code ringwork lock} and {@code ringwork locks} against a real server, in-process. */
final class LockCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private TestingServer server;

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true);
    // 'lock' refuses a group that does not exist: this one exists, as an agent would have made it.
    try (CuratorFramework client = ZooKeeperClients.connect(server.getConnectString())) {
      client.create().creatingParentsIfNeeded().forPath("/ringwork/g");
    }
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private Cli.Result lock(String id, String key, String... more) {
    String[] base = {
      "lock",
      "--connect",
      server.getConnectString(),
      "--group",
      "g",
      "--id",
      id,
      "--key",
      key,
      "--session-timeout",
      "3000"
    };
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return Cli.runAlongside(args);
  }

  @Test
  void lock_acquiresAndReleases_oneJsonLinePerEvent() throws Exception {
    Cli.Result r = lock("admin", "node-7", "--repeat", "2", "--purpose", "test");
    assertThat(r.status()).as(r.err()).isZero();
    String[] lines = r.out().strip().split("\n");
    assertThat(lines).hasSize(4);
    JsonNode first = JSON.readTree(lines[0]);
    assertThat(first.path("event").asText()).isEqualTo("acquired");
    assertThat(first.path("key").asText()).isEqualTo("node-7");
    assertThat(first.path("mode").asText()).isEqualTo("exclusive");
    assertThat(first.path("token").asLong()).isPositive();
    assertThat(first.path("ts").asLong()).isPositive();
    JsonNode released = JSON.readTree(lines[1]);
    assertThat(released.path("event").asText()).isEqualTo("released");
    assertThat(released.path("outcome").asText()).isEqualTo("RELEASED");
    assertThat(JSON.readTree(lines[2]).path("token").asLong())
        .isGreaterThan(first.path("token").asLong());
  }

  @Test
  void lock_heldElsewhere_timeoutExit3_andLocksShowsHolderAndWaiter() throws Exception {
    CompletableFuture<Cli.Result> holder =
        CompletableFuture.supplyAsync(
            () -> lock("holder", "vol-1", "--hold", "4000", "--purpose", "snapshot"));
    Cli.Result listed = null;
    for (int i = 0; i < 100; i++) {
      listed =
          Cli.runAlongside(
              "locks", "--connect", server.getConnectString(), "--group", "g", "--format", "json");
      if (listed.status() == 0 && JSON.readTree(listed.out()).path("locks").size() == 1) {
        break;
      }
      Thread.sleep(50);
    }
    JsonNode locks = JSON.readTree(listed.out());
    assertThat(locks.path("format").asInt()).isEqualTo(1);
    JsonNode entry = locks.path("locks").get(0);
    assertThat(entry.path("key").asText()).isEqualTo("vol-1");
    assertThat(entry.has("partition")).isTrue();
    assertThat(entry.has("owner")).isTrue();
    JsonNode h = entry.path("holders").get(0);
    assertThat(h.path("member").asText()).isEqualTo("holder");
    assertThat(h.path("mode").asText()).isEqualTo("exclusive");
    assertThat(h.path("purpose").asText()).isEqualTo("snapshot");
    assertThat(h.path("token").asLong()).isPositive();
    assertThat(h.path("since").asLong()).isPositive();

    Cli.Result waiter = lock("waiter", "vol-1", "--timeout", "300");
    assertThat(waiter.status()).isEqualTo(3);
    JsonNode timeout = JSON.readTree(waiter.out().strip());
    assertThat(timeout.path("event").asText()).isEqualTo("timeout");
    assertThat(timeout.path("blocker").asText()).contains("holder").contains("snapshot");
    assertThat(holder.get(20, TimeUnit.SECONDS).status()).isZero();
  }

  @Test
  void locks_break_needsForce_exit2_thenBreaksTheHolder() throws Exception {
    Cli.Result r =
        Cli.runAlongside(
            "locks", "--connect", server.getConnectString(), "--group", "g", "--break", "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("needs --force");
    CompletableFuture<Cli.Result> holder =
        CompletableFuture.supplyAsync(() -> lock("holder", "k", "--hold", "20000"));
    Cli.Result broke = null;
    for (int i = 0; i < 100; i++) {
      broke =
          Cli.runAlongside(
              "locks",
              "--connect",
              server.getConnectString(),
              "--group",
              "g",
              "--break",
              "k",
              "--force",
              "--by",
              "ops-alice",
              "--format",
              "json");
      if (broke.status() == 0 && JSON.readTree(broke.out()).path("broken").asInt() == 1) {
        break;
      }
      Thread.sleep(50);
    }
    assertThat(JSON.readTree(broke.out()).path("broken").asInt()).isEqualTo(1);
    assertThat(JSON.readTree(broke.out()).path("by").asText()).isEqualTo("ops-alice");
    Cli.Result held = holder.get(20, TimeUnit.SECONDS);
    assertThat(held.status()).isEqualTo(1);
    assertThat(held.out()).contains("\"event\":\"lost\"");
  }

  @Test
  void lock_badInput_exit2() {
    assertThat(lock("a", "k", "--mode", "write").status()).isEqualTo(2);
    assertThat(lock("a", "k", "--mode", "write").err()).contains("got 'write'");
    assertThat(lock("a", "/k").err()).contains("start or end with '/'");
    assertThat(lock("a", "k", "--repeat", "0").status()).isEqualTo(2);
    assertThat(lock("a", "k", "--subtree").status()).isEqualTo(2);
    Cli.Result r =
        Cli.runAlongside("locks", "--connect", server.getConnectString(), "--group", "nope");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("no such group");
  }

  @Test
  void lock_missingGroup_exit2_andCreatesNothing() throws Exception {
    Cli.Result r =
        Cli.runAlongside(
            "lock",
            "--connect",
            server.getConnectString(),
            "--group",
            "typo",
            "--id",
            "a",
            "--key",
            "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--group typo: no such group at /ringwork/typo");
    try (CuratorFramework client = ZooKeeperClients.connect(server.getConnectString())) {
      assertThat(client.checkExists().forPath("/ringwork/typo")).isNull();
    }
  }

  @Test
  void locks_table_showsSince() throws Exception {
    CompletableFuture<Cli.Result> holder =
        CompletableFuture.supplyAsync(() -> lock("holder", "vol-2", "--hold", "3000"));
    Cli.Result listed = null;
    for (int i = 0; i < 100; i++) {
      listed = Cli.runAlongside("locks", "--connect", server.getConnectString(), "--group", "g");
      if (listed.out().contains("vol-2")) {
        break;
      }
      Thread.sleep(50);
    }
    String[] lines = listed.out().strip().split("\n");
    assertThat(lines[0]).contains("since");
    // an ISO instant to the second, e.g. 2026-12-03T15:04:40Z
    assertThat(lines[1]).containsPattern("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    assertThat(holder.get(20, TimeUnit.SECONDS).status()).isZero();
  }
}
