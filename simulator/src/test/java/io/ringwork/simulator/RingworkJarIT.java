package io.ringwork.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs the built jar as a separate process, as a user would. */
public final class RingworkJarIT {

  public static Path jar() {
    Path jar = Path.of("target", "ringwork.jar");
    assertThat(jar).as("the shaded jar is built by package").exists();
    return jar;
  }

  public static String java() {
    return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
  }

  @Test
  void planExample_exits0AndPrintsThreeSteps() throws Exception {
    Process p =
        new ProcessBuilder(java(), "-jar", jar().toString(), "plan", "--example")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out)
        .contains("step 3: fail-zone zone-c")
        .contains("moved 1147 partitions (optimum 1147)");
  }

  @Test
  void agentEmbedded_takesEverythingThenDrainsOnSigterm() throws Exception {
    try (Processes processes = new Processes()) {
      Processes.Child agent =
          processes.ringwork(
              "solo",
              "agent",
              "--embedded",
              "--group",
              "demo",
              "--id",
              "solo",
              "--partitions",
              "64");
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(60))
          .until(() -> agent.lines.stream().anyMatch(l -> l.contains("\"event\":\"assigned\"")));
      agent.signal("TERM");
      assertThat(agent.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(agent.process.exitValue()).isZero();
      assertThat(agent.lines.get(agent.lines.size() - 1)).contains("\"drained\"");
    }
  }

  @Test
  void badCluster_exits2() throws Exception {
    Path bad = Files.createTempFile("bad", ".yaml");
    Files.writeString(bad, "members:\n  - id: a\n    weight: -1\n");
    Process p =
        new ProcessBuilder(
                java(), "-jar", jar().toString(), "plan", "--cluster", bad.toString(), "--add", "b")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains(bad + ":2:").contains("weight must be positive");
  }

  @Test
  void launcher_runsTheJar_andPassesSignalsToIt() throws Exception {
    Path launcher = Path.of("..", "bin", "ringwork").toAbsolutePath().normalize();
    assertThat(launcher).isExecutable();
    Process version =
        new ProcessBuilder(launcher.toString(), "--version").redirectErrorStream(true).start();
    String out = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(version.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(version.exitValue()).as(out).isZero();
    assertThat(out).startsWith("ringwork ");

    Process zk =
        new ProcessBuilder(launcher.toString(), "zookeeper", "--port", "0")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(zk.getInputStream(), StandardCharsets.UTF_8))) {
      assertThat(lines.readLine()).contains("\"event\":\"started\"");
      // exec: the launcher's pid is the JVM's, so SIGTERM stops the server cleanly (exit 0).
      new ProcessBuilder("kill", "-TERM", Long.toString(zk.pid())).start().waitFor();
      assertThat(zk.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(zk.exitValue()).isZero();
      assertThat(lines.readLine()).contains("\"event\":\"stopped\"");
    } finally {
      zk.destroyForcibly();
    }
  }
}
