package io.ringwork.benchmarks.scale;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * The scale harness of issue 22: a group of N members spread over several JVMs ({@link ScaleNode}
 * processes, so that a member's cost is not hidden behind 999 others' threads in one heap), one
 * ZooKeeper server in this JVM, every JVM under JFR. Per mode and N it reports start -> stable,
 * join -> all stable and leave -> all stable (p50 / p99 / max of the rounds), the server's packets
 * per change and per member (its {@code mntr} counters), and then where the CPU went: each JFR
 * sample attributed to Ringwork, Curator, the ZooKeeper client or server, JSON, or the JDK alone.
 *
 * <p>Run (after {@code mvn -B -q -pl benchmarks -am package -DskipTests}):
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.ringwork.benchmarks.scale.ScaleHarness \
 *     --sizes 100,300,1000 --modes balanced,rendezvous --processes 10 --rounds 5 --out target/scale
 * </pre>
 *
 * <p>{@code --session-ms} sets the members' session timeout (10,000 by default) and {@code
 * --settle-ms} their join window ({@code settleDelay}, 100 by default), {@code --start-threads} how
 * many members each JVM starts at a time (8), {@code --partitions} the partition count (4,096) and
 * {@code --timeout-ms} how long each wait for a stable group may take.
 */
public final class ScaleHarness {

  private int[] sizes = {100, 300};
  private String[] modes = {"balanced", "rendezvous"};
  private int processes = 10;
  private int rounds = 5;
  private int partitions = 4096;
  private long sessionMs = 10_000;
  private long settleMs = 100;
  private int startThreads = 8;
  private long timeoutMs = 300_000;
  private Path out = Path.of("target", "scale");

  private ScaleHarness() {}

  /** Runs the harness; see the class comment for the options. */
  public static void main(String[] args) throws Exception {
    // The server in this JVM logs every mntr connection's close at WARN.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
    ScaleHarness h = new ScaleHarness();
    try {
      h.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("ScaleHarness: " + e.getMessage());
      System.exit(2);
    }
    h.run();
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      String v = args[++i];
      try {
        switch (flag) {
          case "--sizes" ->
              sizes = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
          case "--modes" -> modes = v.split(",");
          case "--processes" -> processes = Integer.parseInt(v);
          case "--rounds" -> rounds = Integer.parseInt(v);
          case "--partitions" -> partitions = Integer.parseInt(v);
          case "--session-ms" -> sessionMs = Long.parseLong(v);
          case "--settle-ms" -> settleMs = Long.parseLong(v);
          case "--start-threads" -> startThreads = Integer.parseInt(v);
          case "--timeout-ms" -> timeoutMs = Long.parseLong(v);
          case "--out" -> out = Path.of(v);
          default -> throw new IllegalArgumentException("unknown option " + flag);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + ": not a number: " + v);
      }
    }
    if (processes < 1
        || rounds < 1
        || startThreads < 1
        || settleMs < 0
        || Arrays.stream(sizes).anyMatch(n -> n < processes)) {
      throw new IllegalArgumentException(
          "need --processes >= 1, --rounds >= 1, --start-threads >= 1, --settle-ms >= 0, every size"
              + " >= processes");
    }
  }

  private void run() throws Exception {
    Files.createDirectories(out);
    System.setProperty("zookeeper.4lw.commands.whitelist", "mntr,ruok,srvr");
    List<JfrBreakdown.Phase> phases = new ArrayList<>();
    StringBuilder table =
        new StringBuilder(
            "| mode | N | JVMs | start all -> stable | packets/join | per member | packets/leave"
                + " | per member | join -> all stable p50 / p99 / max | leave -> all stable p50 /"
                + " p99 / max |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    try (Recording server = new Recording(Configuration.getConfiguration("profile"))) {
      server.start();
      for (String mode : modes) {
        for (int n : sizes) {
          table.append(run(mode, n, phases)).append('\n');
          System.err.print(table);
        }
      }
      server.stop();
      server.dump(out.resolve("server.jfr"));
    }
    JfrBreakdown cpu = new JfrBreakdown(phases);
    try (var files = Files.list(out)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".jfr")).sorted().toList()) {
        if (Files.size(f) == 0) {
          // A JVM killed before it exited dumps nothing; the breakdown goes on without it.
          System.err.println("no samples in " + f + " (its JVM was killed): left out");
          continue;
        }
        cpu.add(f);
      }
    }
    PrintStream o = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    o.println(table);
    o.println("CPU samples (JFR, every JVM: " + processes + " member JVMs and the server's)");
    o.println();
    o.println(cpu.table());
    o.println("Hottest methods (innermost frame outside the JDK), samples:");
    o.println(cpu.hottest(8));
  }

  private String run(String mode, int n, List<JfrBreakdown.Phase> phases) throws Exception {
    String group = "scale-" + mode + "-" + n;
    try (TestingServer zk =
        new TestingServer(
            new InstanceSpec(
                null, -1, -1, -1, true, -1, 200, 0, Map.of("maxSessionTimeout", "60000"), null),
            true)) {
      List<Node> nodes = new ArrayList<>();
      try {
        for (int k = 0; k < processes; k++) {
          nodes.add(
              Node.spawn(
                  zk.getConnectString(),
                  group,
                  mode,
                  partitions,
                  sessionMs,
                  settleMs,
                  startThreads,
                  k,
                  out));
        }
        System.err.printf(Locale.ROOT, "%s N=%d: starting in %d JVMs%n", mode, n, processes);
        Instant t0 = Instant.now();
        long start = System.nanoTime();
        for (int k = 0; k < processes; k++) {
          nodes.get(k).send("start " + (n / processes + (k < n % processes ? 1 : 0)));
        }
        expectAll(nodes, "started");
        long startedNanos = System.nanoTime() - start;
        awaitAll(nodes, n);
        long startNanos = System.nanoTime() - start;
        // The server's counters start with it, so they are the start's own packets.
        long startSent = packetsSent(zk.getPort());
        long startReceived = mntr(zk.getPort(), "zk_packets_received");
        System.err.printf(
            Locale.ROOT,
            "  start: every start() returned after %.1f s, all stable after %.1f s; server packets"
                + " received %d (%.2f N^2), sent %d (%.2f N^2)%n",
            startedNanos / 1e9,
            startNanos / 1e9,
            startReceived,
            startReceived / ((double) n * n),
            startSent,
            startSent / ((double) n * n));
        phases.add(new JfrBreakdown.Phase(mode + " N=" + n + " start", t0, Instant.now()));
        long[] joins = new long[rounds];
        long[] leaves = new long[rounds];
        long joinPackets = 0;
        long leavePackets = 0;
        Instant c0 = Instant.now();
        for (int r = 0; r < rounds; r++) {
          Node node = nodes.get(r % processes);
          long before = packetsSent(zk.getPort());
          long t = System.nanoTime();
          node.send("join");
          node.expect("joined");
          awaitAll(nodes, n + 1);
          joins[r] = System.nanoTime() - t;
          long mid = packetsSent(zk.getPort());
          joinPackets += mid - before;
          t = System.nanoTime();
          node.send("leave");
          node.expect("left");
          awaitAll(nodes, n);
          leaves[r] = System.nanoTime() - t;
          leavePackets += packetsSent(zk.getPort()) - mid;
          System.err.printf(
              Locale.ROOT,
              "  round %d: join %.0f ms %d packets, leave %.0f ms%n",
              r,
              joins[r] / 1e6,
              mid - before,
              leaves[r] / 1e6);
        }
        phases.add(new JfrBreakdown.Phase(mode + " N=" + n + " joins+leaves", c0, Instant.now()));
        double perJoin = joinPackets / (double) rounds;
        double perLeave = leavePackets / (double) rounds;
        return String.format(
            Locale.ROOT,
            "| %s | %d | %d | %.1f s | %.0f | %.1f | %.0f | %.1f | %s | %s |",
            mode,
            n,
            processes,
            startNanos / 1e9,
            perJoin,
            perJoin / n,
            perLeave,
            perLeave / n,
            percentiles(joins),
            percentiles(leaves));
      } finally {
        // All at once: a JVM that waited for the one before would rebalance on its every leave.
        for (Node node : nodes) {
          node.send("quit");
        }
        for (Node node : nodes) {
          node.awaitExit();
        }
      }
    }
  }

  private void expectAll(List<Node> nodes, String reply) throws IOException {
    for (Node node : nodes) {
      node.expect(reply);
    }
  }

  private void awaitAll(List<Node> nodes, int members) throws IOException {
    for (Node node : nodes) {
      node.send("await " + members + " " + timeoutMs);
    }
    expectAll(nodes, "stable");
  }

  private static String percentiles(long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return String.format(
        Locale.ROOT,
        "%.0f / %.0f / %.0f ms",
        s[(s.length - 1) / 2] / 1e6,
        s[(int) Math.ceil(0.99 * s.length) - 1] / 1e6,
        s[s.length - 1] / 1e6);
  }

  /** The server's {@code zk_packets_sent}, read with the {@code mntr} four-letter word. */
  static long packetsSent(int port) throws IOException {
    return mntr(port, "zk_packets_sent");
  }

  /** One counter of the server's {@code mntr} answer. */
  static long mntr(int port, String counter) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      OutputStream o = s.getOutputStream();
      o.write("mntr".getBytes(StandardCharsets.US_ASCII));
      o.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String[] kv = line.split("\t");
        if (kv.length == 2 && kv[0].equals(counter)) {
          return Long.parseLong(kv[1].trim());
        }
      }
    }
    throw new IOException("mntr gave no " + counter);
  }

  /** One member JVM and its command pipe. */
  private record Node(Process process, PrintStream in, BufferedReader replies, int index) {

    static Node spawn(
        String connect,
        String group,
        String mode,
        int partitions,
        long sessionMs,
        long settleMs,
        int startThreads,
        int k,
        Path out)
        throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      String tag = group + "-n" + k;
      ProcessBuilder pb =
          new ProcessBuilder(
              java,
              "-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
                  + out.resolve(tag + ".jfr"),
              "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
              "-cp",
              System.getProperty("java.class.path"),
              ScaleNode.class.getName(),
              connect,
              group,
              mode,
              Integer.toString(partitions),
              Long.toString(sessionMs),
              Long.toString(settleMs),
              Integer.toString(startThreads),
              "p" + k);
      pb.redirectError(out.resolve(tag + ".log").toFile());
      Process p = pb.start();
      return new Node(
          p,
          new PrintStream(p.getOutputStream(), true, StandardCharsets.UTF_8),
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)),
          k);
    }

    void send(String command) {
      in.println(command);
    }

    void expect(String reply) throws IOException {
      String line = replies.readLine();
      while (line != null && !line.startsWith(ScaleNode.REPLY)) {
        line = replies.readLine(); // the JVM's own output (JFR's startup line), not a reply
      }
      if (line == null) {
        throw new IOException("member JVM " + index + " exited (see its .log)");
      }
      line = line.substring(ScaleNode.REPLY.length());
      if (!line.startsWith(reply)) {
        throw new IOException("member JVM " + index + " answered '" + line + "', not " + reply);
      }
    }

    /** Waits for the JVM to exit after {@code quit}, and kills it after 5 minutes. */
    void awaitExit() {
      try {
        // 500 members closing, 8 at a time, hand over as they go: minutes at N = 1,000.
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
          System.err.printf(
              Locale.ROOT, "member JVM %d did not exit within 5 minutes: killed%n", index);
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
