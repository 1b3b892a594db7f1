package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.RuntimeFailure;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code ringwork inspect --serve}: a read-only web view of one live group, served by the JDK's own
 * HTTP server ({@code com.sun.net.httpserver}), so the CLI gains no dependency and the page works
 * offline: one HTML file with its script and style inline, no external assets.
 *
 * <ul>
 *   <li>{@code /}: the page; it polls the two documents below once per refresh interval and redraws
 *       members, load against quota, the handoff, locks and a timeline of changes.
 *   <li>{@code /api/inspect}: the document of {@code ringwork inspect --format json}.
 *   <li>{@code /api/timeline}: recent changes seen between refreshes, newest first.
 *   <li>{@code /metrics}: the same figures as Prometheus text.
 *   <li>{@code /healthz}: 200 while refreshes succeed, 503 otherwise.
 * </ul>
 *
 * Anything else is 404, and any method but GET and HEAD is 405. The group is read by one refreshing
 * thread ({@link #refresh()}); requests only ever see its last snapshot.
 */
final class InspectServer implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int TIMELINE = 100;

  private final Callable<ObjectNode> reader;
  private final HttpServer http;
  private final ExecutorService handlers;
  private final byte[] page;
  private final Deque<ObjectNode> timeline = new ArrayDeque<>();
  private volatile ObjectNode latest;
  private volatile String failure = "no refresh yet";
  private volatile long refreshedAt;

  /**
   * Binds {@code address}; {@link #refresh()} reads the group through {@code reader}.
   *
   * @throws IOException if the address cannot be bound
   */
  InspectServer(InetSocketAddress address, Callable<ObjectNode> reader) throws IOException {
    this.reader = reader;
    this.page = resource("inspect.html");
    this.http = HttpServer.create(address, 0);
    this.handlers = Executors.newFixedThreadPool(2, DaemonThreads.named("ringwork-inspect-http"));
    http.setExecutor(handlers);
    http.createContext("/", this::handle);
  }

  void start() {
    http.start();
  }

  /** The default address of {@code --serve}: loopback only. */
  static final String DEFAULT_BIND = "127.0.0.1:8080";

  /**
   * Parses {@code --bind HOST:PORT} (default {@link #DEFAULT_BIND}).
   *
   * @throws InputException if it is not HOST:PORT with a port in [0, 65535]
   */
  static InetSocketAddress parseBind(String bind) {
    String b = bind == null ? DEFAULT_BIND : bind;
    int colon = b.lastIndexOf(':');
    if (colon <= 0 || colon == b.length() - 1) {
      throw new InputException("--bind must be HOST:PORT, got '" + b + "'");
    }
    String host = b.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(b.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 0 || port > 65535) {
      throw new InputException("--bind: the port must be in [0, 65535], got '" + b + "'");
    }
    return new InetSocketAddress(host, port);
  }

  /**
   * Serves {@code reader}'s group at {@code address}, refreshing every {@code intervalMs}, until
   * the thread is interrupted; prints {@code serving http://HOST:PORT/} once listening.
   *
   * @return the exit status, 0
   * @throws RuntimeFailure if the address cannot be bound
   */
  static int serve(
      InetSocketAddress address, Callable<ObjectNode> reader, long intervalMs, PrintWriter out) {
    InspectServer server;
    try {
      server = new InspectServer(address, reader);
    } catch (IOException e) {
      throw new RuntimeFailure("cannot listen on " + address + ": " + e.getMessage());
    }
    try (server) {
      server.refresh();
      server.start();
      InetSocketAddress a = server.address();
      out.println("serving http://" + a.getHostString() + ":" + a.getPort() + "/");
      out.flush();
      while (!Thread.currentThread().isInterrupted()) {
        try {
          Thread.sleep(intervalMs); // the refresh period itself, not a wait for a condition
        } catch (InterruptedException e) {
          break;
        }
        server.refresh();
      }
    }
    return 0;
  }

  /** Returns the address served, with the port chosen when 0 was asked for. */
  InetSocketAddress address() {
    return http.getAddress();
  }

  /** Reads the group once and records what changed since the last read. */
  void refresh() {
    ObjectNode next;
    try {
      next = reader.call();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      failure = e.getMessage() == null ? e.toString() : e.getMessage();
      return;
    }
    long now = System.currentTimeMillis();
    synchronized (timeline) {
      changes(latest, next, now);
    }
    latest = next;
    refreshedAt = now;
    failure = null;
  }

  @Override
  public void close() {
    http.stop(0);
    handlers.shutdownNow();
  }

  // ---------------------------------------------------------------- the timeline

  private void changes(ObjectNode before, ObjectNode after, long now) {
    if (before == null) {
      event(now, "watch", "watching group " + after.path("group").asText());
      return;
    }
    Map<String, JsonNode> was = members(before);
    Map<String, JsonNode> is = members(after);
    for (String id : is.keySet()) {
      if (!was.containsKey(id)) {
        event(now, "join", id + " joined (" + is.get(id).path("role").asText() + ")");
      } else if (!was.get(id).path("draining").asBoolean()
          && is.get(id).path("draining").asBoolean()) {
        event(now, "drain", id + " is draining");
      }
    }
    for (String id : was.keySet()) {
      if (!is.containsKey(id)) {
        event(now, "leave", id + " left");
      }
    }
    String leaderWas = before.path("leader").asText("");
    String leaderIs = after.path("leader").asText("");
    if (!leaderWas.equals(leaderIs)) {
      event(now, "leader", leaderIs.isEmpty() ? "no leader" : leaderIs + " leads");
    }
    if (before.path("assignmentVersion").asLong() != after.path("assignmentVersion").asLong()) {
      event(now, "assignment", "assignment version " + after.path("assignmentVersion").asLong());
    }
    boolean handoffWas = before.path("handoff").path("inProgress").asBoolean();
    boolean handoffIs = after.path("handoff").path("inProgress").asBoolean();
    if (!handoffWas && handoffIs) {
      event(now, "handoff", "handoff started: waiting for " + pending(after));
    } else if (handoffWas && !handoffIs) {
      event(now, "handoff", "handoff done: every worker acknowledged");
    }
    Set<String> locksWas = lockKeys(before);
    Set<String> locksIs = lockKeys(after);
    for (String k : locksIs) {
      if (!locksWas.contains(k)) {
        event(now, "lock", "lock " + k + " taken");
      }
    }
    for (String k : locksWas) {
      if (!locksIs.contains(k)) {
        event(now, "lock", "lock " + k + " released");
      }
    }
  }

  private void event(long now, String kind, String text) {
    ObjectNode e = JSON.createObjectNode();
    e.put("ts", now);
    e.put("kind", kind);
    e.put("text", text);
    timeline.addFirst(e);
    while (timeline.size() > TIMELINE) {
      timeline.removeLast();
    }
  }

  private static Map<String, JsonNode> members(ObjectNode report) {
    Map<String, JsonNode> m = new HashMap<>();
    for (JsonNode n : report.path("members")) {
      m.put(n.path("id").asText(), n);
    }
    return m;
  }

  private static Set<String> lockKeys(ObjectNode report) {
    Set<String> keys = new HashSet<>();
    for (JsonNode l : report.path("locks")) {
      if (!l.path("holders").isEmpty()) {
        keys.add(l.path("key").asText());
      }
    }
    return keys;
  }

  private static String pending(ObjectNode report) {
    StringBuilder s = new StringBuilder();
    for (Iterator<JsonNode> i = report.path("handoff").path("pending").elements(); i.hasNext(); ) {
      s.append(i.next().path("member").asText()).append(i.hasNext() ? ", " : "");
    }
    return s.toString();
  }

  // ---------------------------------------------------------------- HTTP

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      String method = x.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        x.getResponseHeaders().set("Allow", "GET, HEAD");
        send(x, 405, "text/plain", "read-only: GET or HEAD\n".getBytes(StandardCharsets.UTF_8));
        return;
      }
      switch (x.getRequestURI().getPath()) {
        case "/" -> send(x, 200, "text/html; charset=utf-8", page);
        case "/api/inspect" -> json(x, latest);
        case "/api/timeline" -> {
          ArrayNode a = JSON.createArrayNode();
          synchronized (timeline) {
            a.addAll(timeline);
          }
          json(x, a);
        }
        case "/metrics" ->
            send(
                x,
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics().getBytes(StandardCharsets.UTF_8));
        case "/healthz" -> {
          String f = failure;
          byte[] body =
              (f == null ? "ok\n" : "unhealthy: " + f + "\n").getBytes(StandardCharsets.UTF_8);
          send(x, f == null ? 200 : 503, "text/plain; charset=utf-8", body);
        }
        default -> send(x, 404, "text/plain", "not found\n".getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  private void json(HttpExchange x, JsonNode body) throws IOException {
    if (body == null) {
      send(
          x,
          503,
          "text/plain",
          ("no data yet: " + failure + "\n").getBytes(StandardCharsets.UTF_8));
      return;
    }
    x.getResponseHeaders().set("Cache-Control", "no-store");
    send(x, 200, "application/json", JSON.writeValueAsBytes(body));
  }

  private static void send(HttpExchange x, int status, String type, byte[] body)
      throws IOException {
    x.getResponseHeaders().set("Content-Type", type);
    x.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    boolean head = x.getRequestMethod().equals("HEAD");
    x.sendResponseHeaders(status, head ? -1 : body.length);
    if (!head) {
      try (OutputStream out = x.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** The last snapshot as Prometheus text (exposition format 0.0.4). */
  String metrics() {
    ObjectNode r = latest;
    StringBuilder s = new StringBuilder();
    metric(s, "ringwork_inspect_up", "gauge", "1 while refreshes succeed");
    s.append("ringwork_inspect_up ").append(failure == null ? 1 : 0).append('\n');
    if (r == null) {
      return s.toString();
    }
    String g = "group=\"" + escape(r.path("group").asText()) + "\"";
    metric(s, "ringwork_inspect_refreshed_seconds", "gauge", "time of the last refresh");
    s.append("ringwork_inspect_refreshed_seconds{")
        .append(g)
        .append("} ")
        .append(String.format(Locale.ROOT, "%.3f", refreshedAt / 1000.0))
        .append('\n');
    metric(s, "ringwork_group_members", "gauge", "members of the group");
    s.append("ringwork_group_members{").append(g).append("} ");
    s.append(r.path("members").size()).append('\n');
    metric(s, "ringwork_group_assignment_version", "gauge", "assignment version in force");
    s.append("ringwork_group_assignment_version{").append(g).append("} ");
    s.append(r.path("assignmentVersion").asLong()).append('\n');
    metric(s, "ringwork_group_handoff_pending", "gauge", "workers yet to acknowledge");
    s.append("ringwork_group_handoff_pending{").append(g).append("} ");
    s.append(r.path("handoff").path("pending").size()).append('\n');
    metric(s, "ringwork_member_partitions", "gauge", "primary partitions per member");
    for (JsonNode m : r.path("members")) {
      if (!m.path("partitions").isNull()) {
        s.append("ringwork_member_partitions{").append(g).append(",member=\"");
        s.append(escape(m.path("id").asText())).append("\"} ");
        s.append(m.path("partitions").asInt()).append('\n');
      }
    }
    metric(s, "ringwork_member_quota", "gauge", "fair share of partitions per member");
    for (JsonNode m : r.path("members")) {
      if (!m.path("quota").isNull()) {
        s.append("ringwork_member_quota{").append(g).append(",member=\"");
        s.append(escape(m.path("id").asText())).append("\"} ");
        s.append(String.format(Locale.ROOT, "%.3f", m.path("quota").asDouble())).append('\n');
      }
    }
    metric(s, "ringwork_member_leader", "gauge", "1 for the group's leader");
    for (JsonNode m : r.path("members")) {
      s.append("ringwork_member_leader{").append(g).append(",member=\"");
      s.append(escape(m.path("id").asText())).append("\"} ");
      s.append(m.path("leader").asBoolean() ? 1 : 0).append('\n');
    }
    int holders = 0;
    int waiters = 0;
    for (JsonNode l : r.path("locks")) {
      holders += l.path("holders").size();
      waiters += l.path("waiters").size();
    }
    metric(s, "ringwork_group_lock_holders", "gauge", "per-key lock holders");
    s.append("ringwork_group_lock_holders{").append(g).append("} ").append(holders).append('\n');
    metric(s, "ringwork_group_lock_waiters", "gauge", "per-key lock requests waiting");
    s.append("ringwork_group_lock_waiters{").append(g).append("} ").append(waiters).append('\n');
    metric(s, "ringwork_group_problems", "gauge", "unreadable nodes and other problems");
    s.append("ringwork_group_problems{").append(g).append("} ");
    s.append(r.path("problems").size()).append('\n');
    return s.toString();
  }

  private static void metric(StringBuilder s, String name, String type, String help) {
    s.append("# HELP ").append(name).append(' ').append(help).append('\n');
    s.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static String escape(String label) {
    return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static byte[] resource(String name) {
    try (InputStream in = InspectServer.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name + " next to InspectServer");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
