package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.Cli;
import io.ringwork.simulator.Processes;
import io.ringwork.simulator.RingworkJarIT;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership against Debian's ZooKeeper server run as its own process, with {@code ringwork join}
 * members as separate processes: join, views, kill -9 and SIGTERM.
 */
final class StandaloneZooKeeperIT {

  static final Path[] JARS = {
    Path.of("/usr/share/java/zookeeper.jar"),
    Path.of("/usr/share/java/zookeeper-jute.jar"),
    Path.of("/usr/share/java/slf4j-api.jar")
  };
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** The server from ZooKeeper's own Maven artifact (the version the build uses): runs anywhere. */
  @Test
  void joinViewsAndKill9_againstAStandaloneServerFromTheMavenArtifact() throws Exception {
    run(System.getProperty("java.class.path"));
  }

  /** Runs the scenario against a server started from {@code classpath}. */
  void run(String classpath) throws Exception {
    int port = Processes.freePort();
    Path data = Files.createDirectories(dir.resolve("data"));
    Path cfg =
        Files.writeString(
            dir.resolve("zoo.cfg"),
            "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir="
                + data
                + "\nclientPort="
                + port
                + "\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n");

    try (Processes processes = new Processes()) {
      Processes.Child server =
          processes.start(
              "zookeeper",
              List.of(
                  RingworkJarIT.java(),
                  "-Xmx256m",
                  "-cp",
                  classpath,
                  "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                  cfg.toString()));
      await().atMost(Duration.ofSeconds(30)).until(() -> accepts(port));
      String connect = "127.0.0.1:" + port;
      List<Processes.Child> members = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        members.add(
            processes.ringwork(
                "j" + i,
                "join",
                "--connect",
                connect,
                "--group",
                "it",
                "--id",
                "j" + i,
                "--zone",
                "z" + i,
                "--label",
                "hw=ipmi",
                "--role",
                "worker",
                "--session-timeout",
                "2000"));
      }
      for (Processes.Child m : members) {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    lastView(m).equals(Set.of("j0", "j1", "j2"))
                        && lastViewNode(m).hasNonNull("leader"));
      }
      JsonNode view = lastViewNode(members.get(0));
      assertThat(view.get("leader").asText()).isIn("j0", "j1", "j2");
      assertThat(view.get("members").get(0).get("labels").get(0).asText()).isEqualTo("hw=ipmi");
      assertThat(view.get("ts").asLong()).isPositive();

      Cli.Result listed =
          Cli.run("members", "--connect", connect, "--group", "it", "--format", "json");
      assertThat(listed.status()).as(listed.err()).isZero();
      assertThat(listed.out())
          .contains("\"j0\"")
          .contains("\"j1\"")
          .contains("\"j2\"")
          .contains("\"leader\"");

      members.get(2).process.destroyForcibly(); // SIGKILL
      for (Processes.Child m : members.subList(0, 2)) {
        await().atMost(Duration.ofSeconds(30)).until(() -> lastView(m).equals(Set.of("j0", "j1")));
      }
      members.get(1).signal("TERM");
      assertThat(members.get(1).process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(members.get(1).process.exitValue()).isZero();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> lastView(members.get(0)).equals(Set.of("j0")));
      server.process.destroy();
      assertThat(server.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  static JsonNode lastViewNode(Processes.Child c) throws Exception {
    JsonNode last = null;
    for (String line : c.lines) {
      JsonNode n = JSON.readTree(line);
      if (n.path("event").asText().equals("view")) {
        last = n;
      }
    }
    return last;
  }

  static Set<String> lastView(Processes.Child c) throws Exception {
    JsonNode last = lastViewNode(c);
    Set<String> ids = new TreeSet<>();
    if (last != null) {
      last.get("members").forEach(m -> ids.add(m.get("id").asText()));
    }
    return ids;
  }
}
