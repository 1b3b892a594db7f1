package io.ringwork.simulator.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.RingworkJarIT;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ringwork demo} from the built jar, as a user runs it, in both modes, with a fixed seed and
 * a short duration: the exit code, the verdict and the JSON fields the README documents. With
 * {@code --processes} every worker is its own JVM, so crash is a real kill -9 and pause a real
 * SIGSTOP past the session timeout.
 */
final class DemoJarIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  private record Run(int status, JsonNode report, String err) {}

  private static Run demo(Path dir, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(RingworkJarIT.java(), "-jar", RingworkJarIT.jar().toString(), "demo"));
    command.addAll(List.of(args));
    command.addAll(List.of("--format", "json"));
    Path err = dir.resolve("err.txt");
    Process p =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(err.toFile())).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("the demo ends").isTrue();
    String errText = Files.readString(err);
    assertThat(out).as(errText).isNotBlank();
    return new Run(p.exitValue(), JSON.readTree(out), errText);
  }

  private static void assertPassed(Run r) {
    JsonNode report = r.report();
    assertThat(r.status()).as(report.toPrettyString()).isZero();
    assertThat(report.path("format").asInt()).isEqualTo(1);
    assertThat(report.path("verdict").asText()).isEqualTo("pass");
    assertThat(report.path("unprocessed").asLong()).isZero();
    assertThat(report.path("overlaps").asLong()).isZero();
    assertThat(report.path("staleWritesAccepted").asLong()).isZero();
    assertThat(report.path("staleWritesByCause").path("unexplained").asLong()).isZero();
    assertThat(report.path("writes").asLong()).isGreaterThan(report.path("resources").asLong());
    assertThat(report.path("peakToAverage").asDouble()).isBetween(1.0, 1.5);
    // The live status lines went to stderr ("ringwork demo   12s: w1 86, ... | fault: ...").
    assertThat(r.err()).containsPattern("ringwork demo +\\d+s: ");
  }

  @Test
  void inProcess_everyFaultKind_passes(@TempDir Path dir) throws Exception {
    Run r = demo(dir, "--workers", "3", "--resources", "2000", "--duration", "15s", "--seed", "7");
    assertPassed(r);
    assertThat(r.report().path("mode").asText()).isEqualTo("in-process");
    assertThat(r.report().path("faults").size()).isGreaterThanOrEqualTo(4);
  }

  @Test
  void processes_realKillAndStop_passes(@TempDir Path dir) throws Exception {
    Run r =
        demo(
            dir,
            "--processes",
            "--workers",
            "3",
            "--resources",
            "2000",
            "--duration",
            "20s",
            "--faults",
            "crash,pause,leader,drain,join",
            "--seed",
            "5");
    assertPassed(r);
    JsonNode report = r.report();
    assertThat(report.path("mode").asText()).isEqualTo("processes");
    for (String kind : List.of("crash", "pause", "leader", "drain", "join")) {
      assertThat(report.path("faults").path(kind).asInt()).as(kind).isEqualTo(1);
      assertThat(report.path("handoffMillis").path(kind).path("p99").asLong())
          .as(kind + " handoff")
          .isPositive()
          .isLessThan(30_000);
    }
  }
}
