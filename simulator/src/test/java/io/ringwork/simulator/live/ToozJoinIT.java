package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.simulator.Cli;
import io.ringwork.simulator.Processes;
import io.ringwork.simulator.tooz.ToozPeer;
import java.time.Duration;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code ringwork join --layout tooz} from the built jar, seen by a real tooz member. */
final class ToozJoinIT {

  private TestingServer server;
  private ToozPeer py;

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
    if (py != null) {
      py.close();
    }
    server.close();
  }

  @Test
  void join_toozLayout_seenByPython_thenLeavesOnSigterm() throws Exception {
    py = ToozPeer.member(server.getConnectString(), "central", "py-1", 1);
    try (Processes processes = new Processes()) {
      Processes.Child join =
          processes.ringwork(
              "join",
              "join",
              "--connect",
              server.getConnectString(),
              "--layout",
              "tooz",
              "--group",
              "central",
              "--id",
              "java-1",
              "--weight",
              "2");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> join.lines.stream().anyMatch(l -> l.contains("\"joined\"")));
      py.awaitRing(Map.of("py-1", 1, "java-1", 2));
      join.signal("TERM");
      join.process.waitFor();
      assertThat(join.process.exitValue()).isZero();
      py.awaitRing(Map.of("py-1", 1));
    }
    Cli.Result bad =
        Cli.run(
            "join",
            "--connect",
            server.getConnectString(),
            "--layout",
            "tooz",
            "--group",
            "central",
            "--id",
            "x",
            "--weight",
            "1.5");
    assertThat(bad.status()).isEqualTo(2);
    assertThat(bad.err()).contains("whole number");
    Cli.Result leader =
        Cli.run(
            "join",
            "--connect",
            server.getConnectString(),
            "--layout",
            "tooz",
            "--group",
            "central",
            "--id",
            "leader");
    assertThat(leader.status()).isEqualTo(2);
    assertThat(leader.err()).contains("'leader'");
  }
}
