package io.ringwork.simulator.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.simulator.RingworkCommand;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A worker as its own JVM ({@code ringwork demo-worker}): real kill -9 and SIGSTOP. */
final class ChildWorker implements Worker {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final DemoRun run;
  final String id;
  final Process process;
  volatile int owned;
  volatile boolean stable;
  volatile boolean frozen;
  final CountDownLatch drained = new CountDownLatch(1);
  final HistoryRecorder recorder;
  final BlockingQueue<Map.Entry<String, Long>> parked = new LinkedBlockingQueue<>();
  volatile Map.Entry<String, Long> pausedAt;

  ChildWorker(DemoRun run, String id) throws IOException {
    this.run = run;
    this.id = id;
    this.recorder = new HistoryRecorder(run.history, id);
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx192m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                RingworkCommand.class.getName(),
                "demo-worker",
                "--connect",
                run.connectString,
                "--id",
                id,
                "--jdbc",
                run.ledgerUrl,
                "--resources",
                Integer.toString(run.settings.resources()),
                "--session-timeout",
                Integer.toString(run.settings.sessionMs())));
    process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    DaemonThreads.start("demo-read-" + id, this::read);
  }

  private void read() {
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (JsonProcessingException e) {
          continue; // not an event
        }
        long at = n.path("ns").asLong();
        switch (n.path("event").asText()) {
          case "status" -> {
            owned = n.path("owned").asInt();
            stable = n.path("stable").asBoolean();
            run.childAccepted.put(id, n.path("accepted").asLong());
          }
          case "grants" -> {
            for (JsonNode g : n.path("spans")) {
              // [session, partition, token, first read, last read]
              recorder.grantRead(
                  g.get(0).asLong(), g.get(1).asInt(), g.get(2).asLong(), g.get(3).asLong());
              recorder.grantRead(
                  g.get(0).asLong(), g.get(1).asInt(), g.get(2).asLong(), g.get(4).asLong());
            }
          }
          case "guard" ->
              recorder.guard(
                  n.path("session").asLong(),
                  n.path("key").asText(),
                  n.path("partition").asInt(),
                  n.path("token").asLong(),
                  n.path("fast").asBoolean(),
                  n.path("opened").asLong(),
                  n.path("closed").asLong());
          case "withdrawn" -> recorder.withdrawn(n.path("session").asLong(), n.path("at").asLong());
          case "parked" -> parked.add(Map.entry(n.path("key").asText(), n.path("token").asLong()));
          case "stale" -> {
            run.childRejected.incrementAndGet();
            run.staleWrite(
                id, n.path("key").asText(), n.path("token").asLong(), n.path("cause").asText());
          }
          case "drained" -> drained.countDown();
          default -> {}
        }
      }
    } catch (IOException e) {
      // the process ended
    }
  }

  private Set<Integer> partitions(JsonNode n) {
    Set<Integer> out = new HashSet<>();
    n.path("partitions").forEach(p -> out.add(p.asInt()));
    return out;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int owned() {
    return owned;
  }

  @Override
  public boolean stable() {
    return stable;
  }

  @Override
  public boolean counts() {
    return !frozen;
  }

  @Override
  public void drain() throws Exception {
    // SIGTERM: the worker drains, prints "drained" and exits. Not Process.destroy(), which also
    // closes the pipe we read its events from.
    signal("TERM");
    drained.await(20, TimeUnit.SECONDS);
    process.waitFor(5, TimeUnit.SECONDS);
    close();
  }

  @Override
  public void crash() throws Exception {
    process.destroyForcibly(); // SIGKILL
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void leaveForRestart() {
    throw new IllegalStateException("the restart fault runs in-process only"); // refused above
  }

  @Override
  public void freeze() throws Exception {
    command("pause"); // in its next guard-to-write window, then frozen whole
    pausedAt = parked.poll(3, TimeUnit.SECONDS);
    signal("STOP");
    frozen = true;
  }

  @Override
  public void thaw() throws Exception {
    frozen = false;
    signal("CONT");
    Map.Entry<String, Long> at = pausedAt;
    pausedAt = null;
    DaemonThreads.start(
        "demo-resume-" + id,
        () -> {
          try {
            run.awaitSuccessorWrote(at);
            command("resume"); // it writes with its old token: the ledger refuses
          } catch (Exception e) {
            // the process ended meanwhile
          }
        });
  }

  private void command(String line) throws IOException {
    synchronized (process) {
      process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
      process.getOutputStream().flush();
    }
  }

  private void signal(String name) throws Exception {
    Process kill =
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  @Override
  public void close() {
    if (frozen) {
      try {
        thaw();
      } catch (Exception e) {
        // it is killed next anyway
      }
    }
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
