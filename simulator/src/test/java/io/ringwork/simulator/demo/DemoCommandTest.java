package io.ringwork.simulator.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.simulator.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ringwork demo} in-process, short, with a fixed seed: the verdict and its fields. The
 * verdict is the strict history's: a pause fault parks a worker inside a fast guard and ends its
 * session, and passes only if the guard stops being valid within the lease bound of that end.
 */
final class DemoCommandTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void demo_faultsOfEveryKind_passes_everyResourceProcessed_noOverlap() throws Exception {
    Cli.Result r =
        Cli.runAlongside(
            "demo",
            "--workers",
            "3",
            "--resources",
            "600",
            "--duration",
            "12s",
            "--seed",
            "3",
            "--format",
            "json");
    assertThat(r.status()).as("%s", r.out()).isZero();
    JsonNode report = JSON.readTree(r.out());
    assertThat(report.path("format").asInt()).isEqualTo(1);
    assertThat(report.path("verdict").asText()).isEqualTo("pass");
    assertThat(report.path("resources").asInt()).isEqualTo(600);
    assertThat(report.path("unprocessed").asLong()).isZero();
    assertThat(report.path("overlaps").asLong()).as(report.toPrettyString()).isZero();
    assertThat(report.path("holdsChecked").asLong()).isGreaterThan(600);
    assertThat(report.path("staleWritesAccepted").asLong()).isZero();
    long faults = 0;
    for (JsonNode n : report.path("faults")) {
      faults += n.asLong();
    }
    assertThat(faults).isGreaterThanOrEqualTo(2);
    assertThat(report.path("writes").asLong()).isGreaterThan(600);
    assertThat(report.path("failedChecks")).isEmpty();
    // Status lines name the workers with their partitions and the fault with its worker.
    assertThat(r.err()).contains("ringwork demo ").contains("stale rejected");
    assertThat(r.err()).containsPattern("w1 \\d+").containsPattern("fault: [a-z]+( w\\d+)?");
  }

  @Test
  void demo_pausedWorkerResumes_itsStaleWriteIsRejected() throws Exception {
    Cli.Result r =
        Cli.runAlongside(
            "demo",
            "--workers",
            "2",
            "--resources",
            "300",
            "--duration",
            "6s",
            "--faults",
            "pause",
            "--format",
            "json");
    assertThat(r.status()).as("%s", r.out()).isZero();
    JsonNode report = JSON.readTree(r.out());
    assertThat(report.path("faults").path("pause").asInt()).isEqualTo(1);
    JsonNode causes = report.path("staleWritesByCause");
    assertThat(causes.path("paused").asLong()).isGreaterThanOrEqualTo(1);
    assertThat(causes.path("unexplained").asLong()).isZero();
    assertThat(report.path("staleWritesRejected").asLong())
        .isEqualTo(
            causes.path("paused").asLong()
                + causes.path("expired").asLong()
                + causes.path("lost").asLong());
    assertThat(report.path("staleWritesAccepted").asLong()).isZero();
    assertThat(report.path("overlaps").asLong()).isZero();
    assertThat(report.path("verdict").asText()).isEqualTo("pass");
  }

  @Test
  void demo_rollingRestart_movesNothingToOtherWorkers_passes() throws Exception {
    Cli.Result r =
        Cli.runAlongside(
            "demo",
            "--workers",
            "3",
            "--resources",
            "300",
            "--duration",
            "4s",
            "--faults",
            "restart",
            "--format",
            "json");
    assertThat(r.status()).as("%s", r.out()).isZero();
    JsonNode report = JSON.readTree(r.out());
    JsonNode restarts = report.path("restarts");
    assertThat(restarts.path("rollingRestarts").asInt()).isGreaterThanOrEqualTo(1);
    assertThat(restarts.path("workersRestarted").asInt())
        .isEqualTo(3 * restarts.path("rollingRestarts").asInt());
    assertThat(restarts.path("movedToOthers").asLong()).isZero();
    assertThat(report.path("overlaps").asLong()).isZero();
    assertThat(report.path("staleWritesAccepted").asLong()).isZero();
    assertThat(report.path("verdict").asText()).isEqualTo("pass");
    assertThat(Cli.runAlongside("demo", "--processes", "--faults", "restart").status())
        .isEqualTo(2);
  }

  @Test
  void demo_connectionLoss_withAChart_passes(@TempDir Path dir) throws Exception {
    Path chart = dir.resolve("demo.png");
    Cli.Result r =
        Cli.runAlongside(
            "demo",
            "--workers",
            "2",
            "--resources",
            "300",
            "--duration",
            "6s",
            "--faults",
            "connection",
            "--chart",
            chart.toString(),
            "--format",
            "json");
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode report = JSON.readTree(r.out());
    assertThat(report.path("faults").path("connection").asInt()).isEqualTo(1);
    assertThat(report.path("overlaps").asLong()).isZero();
    assertThat(report.path("unprocessed").asLong()).isZero();
    assertThat(Files.size(chart)).isGreaterThan(1000);
  }

  @Test
  void demo_againstAnExternalServer() throws Exception {
    try (TestingServer server =
        new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1), true)) {
      Cli.Result r =
          Cli.runAlongside(
              "demo",
              "--connect",
              server.getConnectString(),
              "--workers",
              "2",
              "--resources",
              "300",
              "--duration",
              "5s",
              "--faults",
              "crash",
              "--format",
              "json");
      assertThat(r.status()).as(r.err()).isZero();
      JsonNode report = JSON.readTree(r.out());
      assertThat(report.path("verdict").asText()).isEqualTo("pass");
      assertThat(report.path("faults").path("crash").asInt()).isEqualTo(1);
    }
  }

  @Test
  void demo_jdbc_neverReplacesATableThatIsNotTheDemos() throws Exception {
    String url = "jdbc:h2:mem:users-own;DB_CLOSE_DELAY=-1";
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE resources (name VARCHAR(50), size INT)");
      s.execute("INSERT INTO resources VALUES ('keep-me', 1)");
      Cli.Result r = Cli.runAlongside("demo", "--jdbc", url, "--workers", "1", "--duration", "1s");
      assertThat(r.status()).isEqualTo(2);
      assertThat(r.err()).contains("refusing to replace it").contains("[name, size]");
      try (ResultSet rows = s.executeQuery("SELECT name FROM resources")) {
        assertThat(rows.next()).isTrue();
        assertThat(rows.getString(1)).isEqualTo("keep-me");
      }
    }
  }

  @Test
  void demo_badInput_exit2() {
    Cli.Result r = Cli.runAlongside("demo", "--connect", "127.0.0.1:1", "--faults", "connection");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("cannot go with --connect");
    assertThat(Cli.runAlongside("demo", "--chart", "/nonexistent-dir/x.png").err())
        .contains("does not exist");
    assertThat(Cli.runAlongside("demo", "--faults", "meteor").status()).isEqualTo(2);
    assertThat(Cli.runAlongside("demo", "--faults", "meteor").err()).contains("unknown fault");
    assertThat(Cli.runAlongside("demo", "--duration", "soon").err()).contains("--duration");
    assertThat(Cli.runAlongside("demo", "--workers", "0").status()).isEqualTo(2);
    Cli.Result memory = Cli.runAlongside("demo", "--processes", "--jdbc", "jdbc:h2:mem:x");
    assertThat(memory.status()).isEqualTo(2);
    assertThat(memory.err()).contains("private to this JVM");
  }

  @Test
  void demo_badJdbc_refusedUpFront_exit2() {
    Cli.Result memory = Cli.runAlongside("demo", "--jdbc", "jdbc:h2:mem:x");
    assertThat(memory.status()).isEqualTo(2);
    assertThat(memory.err()).contains("--jdbc jdbc:h2:mem:x").contains("DB_CLOSE_DELAY=-1");
    Cli.Result unknown = Cli.runAlongside("demo", "--jdbc", "jdbc:nosuchdb://h/x");
    assertThat(unknown.status()).isEqualTo(2);
    assertThat(unknown.err()).contains("--jdbc jdbc:nosuchdb://h/x: cannot connect");
    // Refused before anything ran: no status line was printed.
    assertThat(memory.err() + unknown.err()).doesNotContain("fault:");
  }

  @Test
  void statusLine_namesWorkersAndTheFault() {
    String line =
        StatusLine.format(
            12, List.of("w1 830", "w2 paused", "w4 0"), "crash w3", 5000, 7, 1, 20, 2);
    assertThat(line)
        .contains("12s: w1 830, w2 paused, w4 0 | fault: crash w3 |")
        .contains("writes 5000, stale rejected 7, handoffs 1, api locks 20 (timed out 2)");
    assertThat(StatusLine.format(0, List.of("w1 0"), null, 0, 0, 0, 0, 0))
        .contains("fault: none yet");
  }

  @Test
  void failedVerdict_namesTheCheckAndItsFirstKeys() throws Exception {
    JsonNode report =
        JSON.readTree(
            """
            {"verdict":"fail","mode":"in-process","failedChecks":["unprocessed"],
             "resources":600,"unprocessed":2,
             "unprocessedSamples":[
               {"key":"node-12","partition":37,"owner":"w3","row":"owner null, token 0, processed 0"},
               {"key":"node-40","partition":9,"owner":null,"row":"owner w2, token 41, processed 0"}],
             "overlaps":0,"writes":10,"staleWritesRejected":0,"staleWritesByCause":{},
             "faults":{},"handoffMillis":{},"workers":2,"peakToAverage":1.0,
             "locks":{"held":0,"timedOut":0},"durationMillis":1000}
            """);
    StringWriter text = new StringWriter();
    DemoReport.table(new PrintWriter(text), (ObjectNode) report);
    assertThat(text.toString())
        .contains("verdict: FAIL")
        .contains("failed check: unprocessed: 2 resources were never processed; first:")
        .contains("node-12 partition 37, owner now w3, ledger row: owner null, token 0")
        .contains("node-40 partition 9, owner now none, ledger row: owner w2, token 41");
  }

  @Test
  void chartLanes_keepEachWorkerInItsOwnBand() {
    assertThat(DemoChart.lanePosition(0, 0, 100)).isEqualTo(0.0);
    assertThat(DemoChart.lanePosition(0, 100, 100)).isLessThan(1.0);
    assertThat(DemoChart.lanePosition(2, 50, 100)).isBetween(2.0, 3.0);
  }
}
