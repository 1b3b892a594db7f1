package io.ringwork.simulator.tooz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real OpenStack tooz peer: {@code src/test/resources/tooz/tooz_peer.py} run by Debian's system
 * Python with python3-tooz (which {@code .ci/run} installs). Each stdout line is a JSON event.
 * There is no skip: without tooz the tests fail, naming what is missing.
 */
public final class ToozPeer implements AutoCloseable {

  static final String PYTHON = "/usr/bin/python3";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String name;
  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
  private final List<String> stderr = new ArrayList<>();

  private ToozPeer(String name, List<String> command) throws IOException {
    this.name = name;
    this.process = new ProcessBuilder(command).start();
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread out =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  events.add(JSON.readTree(line));
                }
              } catch (IOException e) {
                // ended
              }
            },
            "tooz-" + name);
    out.setDaemon(true);
    out.start();
    Thread err =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  synchronized (stderr) {
                    stderr.add(line);
                  }
                }
              } catch (IOException e) {
                // ended
              }
            },
            "tooz-err-" + name);
    err.setDaemon(true);
    err.start();
  }

  /** Fails (does not skip) when Debian's python3-tooz is missing. */
  public static void requireTooz() throws Exception {
    Process p =
        new ProcessBuilder(PYTHON, "-c", "import tooz.coordination, tooz.partitioner, kazoo")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0)
        .as(
            "real tooz is needed: install Debian's python3-tooz (.ci/run does) for "
                + PYTHON
                + "; got: "
                + out)
        .isTrue();
  }

  public static Path script() throws URISyntaxException {
    return Path.of(ToozPeer.class.getResource("/tooz/tooz_peer.py").toURI());
  }

  /** Starts {@code tooz_peer.py SUBCOMMAND --connect C ARGS...}. */
  public static ToozPeer start(String name, String connect, String sub, String... args)
      throws Exception {
    List<String> command = new ArrayList<>(List.of(PYTHON, script().toString(), sub));
    command.addAll(List.of("--connect", connect, "--timeout", "4"));
    command.addAll(List.of(args));
    return new ToozPeer(name, command);
  }

  /**
   * Starts a Python member of a partitioned group (32 points per weight) and waits for its join.
   */
  public static ToozPeer member(String connect, String group, String id, int weight)
      throws Exception {
    ToozPeer p =
        start(
            id,
            connect,
            "member",
            "--group",
            group,
            "--id",
            id,
            "--weight",
            Integer.toString(weight),
            "--partitions",
            "32");
    p.await("joined", 30);
    return p;
  }

  /** Polls this Python member until its ring has exactly these members and weights. */
  public void awaitRing(Map<String, Integer> expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      send("poll");
      last = await(n -> !n.path("event").asText().isEmpty(), 10, "poll answer");
      Map<String, Integer> seen = new TreeMap<>();
      last.path("members")
          .fields()
          .forEachRemaining(e -> seen.put(e.getKey(), e.getValue().asInt()));
      if (seen.equals(new TreeMap<>(expected))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("Python ring never became " + expected + "; last: " + last);
  }

  /** Sends one command line. */
  public void send(String line) throws IOException {
    stdin.write(line + "\n");
    stdin.flush();
  }

  /** Waits for the next event of a kind (skipping others). */
  public JsonNode await(String event, long seconds) throws InterruptedException {
    return await(n -> n.path("event").asText().equals(event), seconds, event);
  }

  public JsonNode await(Predicate<JsonNode> match, long seconds, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      long left = deadline - System.nanoTime();
      JsonNode n = left <= 0 ? null : events.poll(left, TimeUnit.NANOSECONDS);
      if (n == null) {
        throw new AssertionError(
            "tooz peer " + name + ": no '" + what + "' within " + seconds + " s; stderr: " + err());
      }
      if (match.test(n)) {
        return n;
      }
    }
  }

  /** Returns every event up to and including the next one of a kind. */
  public List<JsonNode> collectUntil(String event, long seconds) throws InterruptedException {
    List<JsonNode> seen = new ArrayList<>();
    await(
        n -> {
          seen.add(n);
          return n.path("event").asText().equals(event);
        },
        seconds,
        event);
    return seen;
  }

  /** Returns the next event, or null if none comes within the time. */
  public JsonNode poll(long millis) throws InterruptedException {
    return events.poll(millis, TimeUnit.MILLISECONDS);
  }

  public String err() {
    synchronized (stderr) {
      return String.join("\n", stderr.subList(Math.max(0, stderr.size() - 15), stderr.size()));
    }
  }

  public Process process() {
    return process;
  }

  public static Path keysFile(Path dir, List<String> keys) throws IOException {
    Path f = dir.resolve("keys-" + keys.size() + ".txt");
    Files.write(f, keys, StandardCharsets.UTF_8);
    return f;
  }

  @Override
  public void close() {
    try {
      stdin.close();
    } catch (IOException e) {
      // gone
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
