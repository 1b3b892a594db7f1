package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.Cli;
import io.ringwork.simulator.cli.ZooKeeperClients;
import io.ringwork.simulator.tooz.ToozPeer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's {@code --layout tooz} against real tooz members on a real server. */
final class ToozCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private TestingServer server;
  private final List<AutoCloseable> open = new ArrayList<>();
  @TempDir Path dir;

  @BeforeAll
  static void tooz() throws Exception {
    ToozPeer.requireTooz();
  }

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 500, -1), true);
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    server.close();
  }

  private ToozPeer member(String id, int weight) throws Exception {
    ToozPeer p = ToozPeer.member(server.getConnectString(), "central", id, weight);
    open.add(p);
    return p;
  }

  @Test
  void membersAndLookup_readTheLiveToozGroup_asPythonDoes() throws Exception {
    ToozPeer a = member("conductor-1", 1);
    member("conductor-2", 2);
    member("conductor-3", 1);
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      keys.add("node-" + i);
    }
    Path file = ToozPeer.keysFile(dir, keys);
    for (int replicas : List.of(1, 2)) {
      Cli.Result r =
          Cli.run(
              "lookup",
              "--connect",
              server.getConnectString(),
              "--layout",
              "tooz",
              "--group",
              "central",
              "--partitions",
              "32",
              "--replicas",
              Integer.toString(replicas),
              "--keys",
              file.toString());
      assertThat(r.status()).as(r.err()).isZero();
      Map<String, TreeSet<String>> cli = new TreeMap<>();
      for (String line : r.out().split("\n")) {
        String[] kv = line.split("\t");
        cli.put(kv[0], new TreeSet<>(List.of(kv[1].split(","))));
      }
      a.send("lookup " + replicas + " " + file);
      JsonNode py = a.await("lookup", 30).path("owners");
      for (String k : keys) {
        TreeSet<String> expected = new TreeSet<>();
        py.path(k).forEach(o -> expected.add(o.asText()));
        assertThat(cli.get(k)).as(k).isEqualTo(expected);
      }
    }
    assertThat(
            Cli.run(
                    "lookup",
                    "--connect",
                    server.getConnectString(),
                    "--layout",
                    "tooz",
                    "--group",
                    "central",
                    "node-0")
                .out())
        .isEqualTo("node-0\tconductor-2\n"); // docs/tooz.md, section 5.4
    // A child Python members fail on: members flags it, lookup warns and answers.
    try (CuratorFramework c = ZooKeeperClients.connect(server.getConnectString())) {
      c.create()
          .withMode(CreateMode.EPHEMERAL)
          .forPath("/tooz/central/bad", "{\"weight\": 2}".getBytes(StandardCharsets.UTF_8));
      Cli.Result m =
          Cli.run(
              "members",
              "--connect",
              server.getConnectString(),
              "--layout",
              "tooz",
              "--group",
              "central",
              "--format",
              "json");
      assertThat(m.status()).as(m.err()).isZero();
      JsonNode root = JSON.readTree(m.out());
      assertThat(root.path("layout").asText()).isEqualTo("tooz");
      assertThat(root.path("problems").asInt()).isEqualTo(1);
      Map<String, JsonNode> byId = new TreeMap<>();
      root.path("members").forEach(n -> byId.put(n.path("id").asText(), n));
      assertThat(byId.keySet()).containsExactly("bad", "conductor-1", "conductor-2", "conductor-3");
      assertThat(byId.get("conductor-2").path("weight").asInt()).isEqualTo(2);
      assertThat(byId.get("bad").path("problem").asText()).contains("extra data");
      assertThat(byId.get("bad").path("inRing").asBoolean()).isFalse();
      Cli.Result table =
          Cli.run(
              "members",
              "--connect",
              server.getConnectString(),
              "--layout",
              "tooz",
              "--group",
              "central");
      assertThat(table.out()).contains("!! extra data").contains("1 child(ren) flagged");
      Cli.Result l =
          Cli.run(
              "lookup",
              "--connect",
              server.getConnectString(),
              "--layout",
              "tooz",
              "--group",
              "central",
              "node-0");
      assertThat(l.err()).contains("warning").contains("'bad'");
      assertThat(l.out()).isEqualTo("node-0\tconductor-2\n");
    }
  }

  @Test
  void lock_excludesWithAToozHolder() throws Exception {
    ToozPeer py =
        ToozPeer.start(
            "py",
            server.getConnectString(),
            "lock-hold",
            "--name",
            "volume-42",
            "--id",
            "py-holder");
    open.add(py);
    assertThat(py.await("acquired", 30).path("ok").asBoolean()).isTrue();
    Cli.Result blocked =
        Cli.run(
            "lock",
            "--connect",
            server.getConnectString(),
            "--layout",
            "tooz",
            "--id",
            "java-1",
            "--key",
            "volume-42",
            "--timeout",
            "500");
    assertThat(blocked.status()).as(blocked.err()).isEqualTo(LockCommand.EXIT_TIMEOUT);
    JsonNode timeout = JSON.readTree(blocked.out().trim());
    assertThat(timeout.path("event").asText()).isEqualTo("timeout");
    assertThat(timeout.path("blocker").asText()).isEqualTo("py-holder");
    py.send("release");
    py.await("released", 30);
    Cli.Result ok =
        Cli.run(
            "lock",
            "--connect",
            server.getConnectString(),
            "--layout",
            "tooz",
            "--id",
            "java-1",
            "--key",
            "volume-42",
            "--mode",
            "shared",
            "--repeat",
            "2");
    assertThat(ok.status()).as(ok.err()).isZero();
    String[] lines = ok.out().trim().split("\n");
    assertThat(lines).hasSize(4);
    JsonNode acquired = JSON.readTree(lines[0]);
    assertThat(acquired.path("mode").asText()).isEqualTo("shared");
    assertThat(acquired.path("path").asText())
        .startsWith("/tooz/locks/volume-42/")
        .contains("-read__lock__");
    assertThat(JSON.readTree(lines[2]).path("token").asLong())
        .isGreaterThan(acquired.path("token").asLong());
    Cli.Result bad =
        Cli.run(
            "lock",
            "--connect",
            server.getConnectString(),
            "--layout",
            "tooz",
            "--id",
            "java-1",
            "--key",
            "k",
            "--mode",
            "upgradable");
    assertThat(bad.status()).isEqualTo(2);
    assertThat(bad.err()).contains("shared or exclusive");
  }
}
