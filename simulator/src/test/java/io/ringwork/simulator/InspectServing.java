package io.ringwork.simulator;

import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** {@code ringwork inspect --serve} run in-process on a free port, for the web view's tests. */
public final class InspectServing implements AutoCloseable {

  private static final Pattern SERVING = Pattern.compile("serving (http://\\S+/)");

  private final Thread thread;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private volatile int status = -1;
  public final URI base;
  private final HttpClient http = HttpClient.newHttpClient();

  public InspectServing(String connect, String group, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "inspect",
                "--connect",
                connect,
                "--group",
                group,
                "--serve",
                "--bind",
                "127.0.0.1:0",
                "--interval",
                "200"));
    args.addAll(List.of(more));
    CommandLine cl = RingworkCommand.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    thread = new Thread(() -> status = cl.execute(args.toArray(String[]::new)), "inspect-serve");
    thread.setDaemon(true);
    thread.start();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> SERVING.matcher(out.toString()).find() || !thread.isAlive());
    Matcher m = SERVING.matcher(out.toString());
    if (!m.find()) {
      throw new AssertionError("inspect --serve did not start (" + status + "): " + err);
    }
    base = URI.create(m.group(1));
  }

  public HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(base.resolve(path)).GET().build());
  }

  public HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** Stops serving (as an interrupt or SIGTERM would) and returns the exit status. */
  @Override
  public void close() throws InterruptedException {
    thread.interrupt();
    thread.join(10_000);
  }

  public int status() {
    return status;
  }
}
