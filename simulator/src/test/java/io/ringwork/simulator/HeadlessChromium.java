package io.ringwork.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven over the DevTools protocol (a WebSocket, with the JDK's own
 * client): navigate, evaluate JavaScript, take a screenshot. Each instance has a fresh profile and
 * no network access beyond what the page asks for.
 */
public final class HeadlessChromium implements AutoCloseable {

  public static final Path BINARY = Path.of("/usr/bin/chromium");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final Map<Integer, CompletableFuture<JsonNode>> calls = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();

  public HeadlessChromium() throws Exception {
    if (!Files.isExecutable(BINARY)) {
      throw new IllegalStateException(
          BINARY + " is missing: install Debian's chromium (apt-get install chromium)");
    }
    profile = Files.createTempDirectory("ringwork-chromium-");
    process =
        new ProcessBuilder(
                BINARY.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,860",
                "--user-data-dir=" + profile,
                "--remote-debugging-port=0",
                "about:blank")
            .redirectErrorStream(true)
            .redirectOutput(profile.resolve("chromium.log").toFile())
            .start();
    Path portFile = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "chromium did not open its DevTools port: "
                + Files.readString(profile.resolve("chromium.log")));
      }
      Thread.sleep(50); // the browser writes the file when it listens; nothing to wake us
    }
    int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
    HttpClient http = HttpClient.newHttpClient();
    JsonNode targets =
        JSON.readTree(
            http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body());
    String page = null;
    for (JsonNode t : targets) {
      if (t.path("type").asText().equals("page")) {
        page = t.path("webSocketDebuggerUrl").asText();
      }
    }
    if (page == null) {
      throw new IllegalStateException("chromium has no page target: " + targets);
    }
    socket =
        http.newWebSocketBuilder()
            .buildAsync(URI.create(page), new Listener())
            .get(30, TimeUnit.SECONDS);
  }

  /** Loads {@code url} in the page and waits for its load event. */
  public void navigate(String url) throws Exception {
    call("Page.enable", JSON.createObjectNode());
    ObjectNode p = JSON.createObjectNode();
    p.put("url", url);
    JsonNode r = call("Page.navigate", p);
    if (r.has("errorText")) {
      throw new IllegalStateException("could not load " + url + ": " + r.get("errorText"));
    }
    await("document.readyState === 'complete'");
  }

  /** Evaluates {@code expression} in the page and returns its value (JSON). */
  public JsonNode evaluate(String expression) throws Exception {
    ObjectNode p = JSON.createObjectNode();
    p.put("expression", expression);
    p.put("returnByValue", true);
    JsonNode r = call("Runtime.evaluate", p);
    if (r.has("exceptionDetails")) {
      throw new IllegalStateException(expression + " threw: " + r.get("exceptionDetails"));
    }
    return r.path("result").path("value");
  }

  /** Waits up to 30 s until {@code condition} is true in the page. */
  public void await(String condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!evaluate("!!(" + condition + ")").asBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not true in the page within 30 s: " + condition);
      }
      Thread.sleep(100); // polling the page's DOM: the page has no way to call us
    }
  }

  /** Returns a PNG of the page as it is rendered now. */
  public byte[] screenshot() throws Exception {
    ObjectNode p = JSON.createObjectNode();
    p.put("format", "png");
    p.put("captureBeyondViewport", true);
    return Base64.getDecoder().decode(call("Page.captureScreenshot", p).path("data").asText());
  }

  private JsonNode call(String method, ObjectNode params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonNode> reply = new CompletableFuture<>();
    calls.put(id, reply);
    ObjectNode m = JSON.createObjectNode();
    m.put("id", id);
    m.put("method", method);
    m.set("params", params);
    socket.sendText(m.toString(), true).get(10, TimeUnit.SECONDS);
    JsonNode r = reply.get(30, TimeUnit.SECONDS);
    if (r.has("error")) {
      throw new IllegalStateException(method + " failed: " + r.get("error"));
    }
    return r.path("result");
  }

  @Override
  public void close() throws IOException, InterruptedException {
    socket.abort();
    // Chromium's helpers (renderer, utility, crash handler) are its children and may still write
    // into the profile after the browser itself exits: stop them all, then remove the profile.
    List<ProcessHandle> helpers = process.descendants().toList();
    process.destroy();
    helpers.forEach(ProcessHandle::destroy);
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    for (ProcessHandle h : helpers) {
      try {
        h.onExit().get(5, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        h.destroyForcibly();
      }
    }
    for (int attempt = 0; attempt < 5 && Files.exists(profile); attempt++) {
      try (Stream<Path> files = Files.walk(profile)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(f);
        }
      } catch (IOException e) {
        TimeUnit.MILLISECONDS.sleep(200); // a file appeared meanwhile: walk again
      }
    }
  }

  /** Collects fragmented text frames and completes the call each reply answers. */
  private final class Listener implements WebSocket.Listener {
    private final StringBuilder frame = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      frame.append(data);
      if (last) {
        try {
          JsonNode n = JSON.readTree(frame.toString());
          CompletableFuture<JsonNode> f = n.has("id") ? calls.remove(n.get("id").asInt()) : null;
          if (f != null) {
            f.complete(n);
          }
        } catch (IOException e) {
          calls.values().forEach(f -> f.completeExceptionally(e));
        }
        frame.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      List.copyOf(calls.values()).forEach(f -> f.completeExceptionally(error));
    }
  }
}
