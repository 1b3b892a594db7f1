package io.ringwork.simulator.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockRequest;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.membership.EmbeddedZooKeeper;
import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Ring;
import io.ringwork.simulator.RingworkCommand;
import io.ringwork.simulator.cli.Charts;
import io.ringwork.simulator.cli.ConnectTimeoutOption;
import io.ringwork.simulator.cli.Durations;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.Reports;
import io.ringwork.simulator.cli.ZooKeeperClients;
import io.ringwork.test.StrictHistory;
import io.ringwork.test.StrictHistory.Incarnation;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.h2.tools.Server;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ringwork demo}: the framework's job, end to end, with no external service: an embedded
 * ZooKeeper, a group of workers that each process the resources they own with fenced writes to a
 * real SQL table, an "API" actor that locks keys the owners are working on, and a seeded stream of
 * faults; then a verdict.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    header = "Run a live group on a fenced SQL ledger through seeded faults, then give a verdict.",
    description = {
      "Run workers sharing resources through a live group on an embedded ZooKeeper, with fenced",
      "writes to a SQL table (embedded H2 by default), an API actor taking per-key locks, and",
      "faults (join, drain, crash, pause past the session, leader loss); then report: every",
      "resource processed, no overlapping holds, stale writes rejected. Exit 0 only on a pass."
    },
    footer = {"", "Example:", "  ringwork demo --workers 5 --duration 30s --seed 7 --format json"})
public final class DemoCommand implements Callable<Integer> {

  /** The fault kinds. */
  static final List<String> FAULTS =
      List.of("join", "drain", "crash", "pause", "leader", "connection");

  /**
   * Faults run only when asked for: {@code restart} restarts every live worker in turn with the
   * same id (a rolling restart) under a restart grace, which the other faults would feel.
   */
  static final List<String> OPT_IN_FAULTS = List.of("restart");

  /** The restart grace of the workers when {@code restart} is among the faults. */
  static final Duration RESTART_GRACE = Duration.ofSeconds(30);

  @Option(names = "--workers", paramLabel = "N", description = "Workers at the start.")
  int workers = 5;

  @Option(names = "--resources", paramLabel = "N", description = "Resources.")
  int resources = 10_000;

  @Option(names = "--duration", paramLabel = "D", description = "How long faults run, e.g. 30s.")
  String duration = "30s";

  @Option(names = "--seed", paramLabel = "S", description = "Seed of the fault schedule.")
  long seed = 1;

  @Option(
      names = "--faults",
      paramLabel = "LIST",
      split = ",",
      description =
          "Fault kinds to inject: join, drain, crash, pause, leader, connection (the embedded"
              + " server restarts: every session is disconnected); restart (only when asked"
              + " for, in-process only: every worker in turn leaves for a restart and comes back"
              + " with the same id under a 30 s restart grace; the report counts partitions moved"
              + " to other workers).")
  List<String> faults = new ArrayList<>(FAULTS);

  @Option(names = "--session-timeout", paramLabel = "MS", description = "Workers' session timeout.")
  int sessionMs = 2000;

  @Option(
      names = "--jdbc",
      paramLabel = "URL",
      description = "The ledger's database (default: an embedded in-memory H2).")
  String jdbc;

  @Option(names = "--format", paramLabel = "FORMAT", description = "table (default) or json.")
  String format = "table";

  @Option(
      names = "--chart",
      paramLabel = "FILE",
      description = "Write writes/s and handoffs over time, with the faults marked (.png or .svg).")
  Path chart;

  @Option(
      names = "--connect",
      paramLabel = "HOST:PORT",
      description = "Run against this ensemble instead of an embedded server.")
  String connect;

  @Option(
      names = "--processes",
      description =
          "Run each worker as its own JVM: crash is a real kill -9, pause a real SIGSTOP. The"
              + " ledger is then served over TCP (an H2 server on 127.0.0.1, or --jdbc).")
  boolean processes;

  @Option(
      names = "--standby-warmup",
      paramLabel = "D",
      description =
          "After the run, measure warm standbys: owners pay a simulated warm-up of D (e.g. 300ms)"
              + " before their first write, standbys pay it ahead; report the handoff-to-first-write"
              + " of promoted standbys against cold owners (field 'standby').")
  String standbyWarmup;

  @CommandLine.Mixin ConnectTimeoutOption connectTimeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Whether the status goes to a terminal (refreshed in place) or to a pipe or file (lines). */
  private static final boolean TERMINAL = System.console() != null;

  private static final String GROUP = DemoGroup.GROUP;
  private static final int PARTITIONS = DemoGroup.PARTITIONS;

  private volatile EmbeddedZooKeeper zk;
  private Path zkDir;
  private int zkPort;
  private String connectString;
  private final List<Double> sampleSeconds = new ArrayList<>();
  private final List<Double> sampleWrites = new ArrayList<>();

  /** Per worker, {second, partitions owned} four times a second, for the chart. */
  private final Map<String, List<double[]>> sampleOwned = new LinkedHashMap<>();

  private final List<Map.Entry<Double, String>> faultTimes = new ArrayList<>();
  private long startedNanos;
  private long lastAccepted;

  /** The fault in progress or last injected, with its worker, for the status line. */
  private volatile String lastFault;

  private double lastSecond;
  private DemoLedger ledger;
  private String ledgerUrl;
  private CuratorFramework observer;
  private AutoCloseable sessionWatch;
  private final StrictHistory history = StrictHistory.create();
  private final List<Worker> live = new CopyOnWriteArrayList<>();
  private Map<Integer, List<String>> keysByPartition;
  private final Map<String, AtomicLong> faultCounts = new TreeMap<>();
  private final Map<String, List<Long>> handoffMillis = new TreeMap<>();
  private final Map<String, AtomicLong> staleByCause = new ConcurrentHashMap<>();
  private final List<String> unexplainedSamples = new CopyOnWriteArrayList<>();
  private final Map<String, Long> childAccepted = new ConcurrentHashMap<>();
  private final AtomicLong childRejected = new AtomicLong();
  private final AtomicLong lockHolds = new AtomicLong();
  private final AtomicLong lockTimeouts = new AtomicLong();
  private int nextId;

  @Override
  public Integer call() throws Exception {
    Duration length = Durations.parse("--duration", duration);
    if (workers < 1 || workers > 50) {
      throw new InputException("--workers must be between 1 and 50, got " + workers);
    }
    if (resources < 1 || resources > 1_000_000) {
      throw new InputException("--resources must be between 1 and 1000000, got " + resources);
    }
    for (String f : faults) {
      if (!FAULTS.contains(f) && !OPT_IN_FAULTS.contains(f)) {
        List<String> known = new ArrayList<>(FAULTS);
        known.addAll(OPT_IN_FAULTS);
        throw new InputException("--faults: unknown fault '" + f + "'; known: " + known);
      }
    }
    if (processes && faults.contains("restart")) {
      throw new InputException(
          "--faults restart runs in-process only; for processes see 'ringwork agent"
              + " --restart-grace'");
    }
    restartGrace = faults.contains("restart") ? RESTART_GRACE : null;
    if (sessionMs < 1000 || sessionMs > 60_000) {
      throw new InputException("--session-timeout must be between 1000 and 60000 ms");
    }
    if (!format.equals("table") && !format.equals("json")) {
      throw new InputException("--format must be table or json, got '" + format + "'");
    }
    if (chart != null) {
      Charts.checkPath(chart);
    }
    Duration warmup =
        standbyWarmup == null ? null : Durations.parse("--standby-warmup", standbyWarmup);
    if (warmup != null && (warmup.isNegative() || warmup.compareTo(Duration.ofSeconds(10)) > 0)) {
      throw new InputException("--standby-warmup must be between 0 and 10s, got " + standbyWarmup);
    }
    if (processes && jdbc != null && jdbc.startsWith("jdbc:h2:mem:")) {
      throw new InputException(
          "--jdbc " + jdbc + " is private to this JVM; with --processes give a server's URL");
    }
    if (jdbc != null) {
      checkJdbc(jdbc);
    }
    if (connect != null && faults.contains("connection")) {
      if (spec.commandLine().getParseResult().hasMatchedOption("--faults")) {
        throw new InputException(
            "--faults connection restarts the embedded server; it cannot go with --connect");
      }
      faults.remove("connection");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    logsAwayFromTheStatusLine(err);
    long started = System.nanoTime();
    startedNanos = started;
    if (connect == null) {
      zkDir = Files.createTempDirectory("ringwork-demo-zk");
      zkPort = freePort();
      zk = EmbeddedZooKeeper.start(zkDir, zkPort);
      connectString = zk.connectString();
    } else {
      connectString = connect;
      ZooKeeperClients.connect(connect, null, connectTimeout)
          .close(); // fail fast, with one line, when unreachable
    }
    Server h2 = null;
    try {
      List<String> keys = DemoGroup.keys(resources);
      keysByPartition = DemoGroup.keysByPartition(keys);
      String db = "ringwork-demo-" + ProcessHandle.current().pid();
      String url = jdbc != null ? jdbc : "jdbc:h2:mem:" + db + ";DB_CLOSE_DELAY=-1";
      ledger = DemoLedger.create(url, keysByPartition);
      ledgerUrl = url;
      if (processes && jdbc == null) {
        // The workers reach this JVM's in-memory table through an H2 TCP server on loopback only.
        System.setProperty("h2.bindAddress", "127.0.0.1");
        h2 = Server.createTcpServer("-tcpPort", Integer.toString(freePort())).start();
        ledgerUrl = "jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/mem:" + db;
      }
      observer = ZooKeeperClients.connect(connectString);
      for (int i = 0; i < workers; i++) {
        live.add(newWorker());
      }
      awaitStable(Duration.ofSeconds(60));
      sessionWatch = history.watchSessions(observer, GroupPaths.of("/ringwork", GROUP).members());
      Api api = new Api(keys);
      api.start();
      Random rnd = new Random(seed);
      List<String> schedule = new ArrayList<>(faults);
      Collections.shuffle(schedule, rnd); // every kind once per cycle, in a seeded order
      if (processes && schedule.remove("pause")) {
        // Slow faults (a JVM per worker) fit fewer in a run: pause, the one that shows a stale
        // write refused, comes first so that a default run has one.
        schedule.add(0, "pause");
      }
      long end = System.nanoTime() + length.toNanos();
      long spacing = length.toNanos() / (Math.max(1, faults.size()) + 1);
      long nextFault = System.nanoTime() + spacing;
      // Status and samples once a second on their own thread, so a fault that blocks (a pause
      // waits for the group to settle) leaves no gap in them.
      ScheduledExecutorService ticker =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "demo-status");
                t.setDaemon(true);
                return t;
              });
      ticker.scheduleAtFixedRate(() -> status(err), 0, 1, TimeUnit.SECONDS);
      ticker.scheduleAtFixedRate(this::sampleOwnership, 0, 250, TimeUnit.MILLISECONDS);
      int faultIndex = 0;
      while (System.nanoTime() < end) {
        if (!faults.isEmpty() && System.nanoTime() >= nextFault) {
          String kind = schedule.get(faultIndex++ % schedule.size());
          nextFault = System.nanoTime() + spacing; // from the start: a slow fault delays no other
          inject(kind, rnd);
        }
        Thread.sleep(50);
      }
      api.stop();
      ticker.shutdown();
      ticker.awaitTermination(5, TimeUnit.SECONDS);
      if (TERMINAL) {
        err.println();
      }
      // Let every resource be processed once the faults have stopped.
      long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (ledger.unprocessed() > 0 && System.nanoTime() < settle) {
        Thread.sleep(200);
      }
      ObjectNode report = report(System.nanoTime() - started);
      if (warmup != null) {
        report.set("standby", new StandbyTrial(connectString, sessionMs, warmup, 3, err).run());
      }
      if (format.equals("json")) {
        out.println(report.toPrettyString());
      } else {
        table(out, report);
      }
      out.flush();
      if (chart != null) {
        DemoChart.write(
            chart,
            sampleOwned,
            sampleSeconds,
            sampleWrites,
            faultTimes,
            String.format(
                Locale.ROOT,
                "ringwork demo, seed %d: %s",
                seed,
                report.path("verdict").asText().toUpperCase(Locale.ROOT)));
        err.println("chart written to " + chart);
      }
      return report.path("verdict").asText().equals("pass") ? 0 : 1;
    } finally {
      for (Worker w : live) {
        w.close();
      }
      if (sessionWatch != null) {
        sessionWatch.close();
      }
      if (observer != null) {
        observer.close();
      }
      if (h2 != null) {
        h2.stop();
      }
      if (zk != null) {
        zk.close();
      }
    }
  }

  private Worker newWorker() throws Exception {
    String id = newId();
    return processes ? new ChildWorker(id) : new LocalWorker(id);
  }

  /** The restart grace of the workers, or null (off). */
  private Duration restartGrace;

  /** Partitions activated per worker id, counted from the callbacks (for the restart fault). */
  private final Map<String, AtomicLong> activated = new ConcurrentHashMap<>();

  /** Partitions moved to another worker by restarts: each counted when it is activated there. */
  private final AtomicLong restartMoves = new AtomicLong();

  private int restarts;

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private String newId() {
    return "w" + (++nextId);
  }

  // ---------------------------------------------------------------- workers

  /** A worker of the demo, in this JVM or its own process. */
  private interface Worker {
    String id();

    /** Partitions it owns (as last reported, for a process). */
    int owned();

    /** Whether its rebalancer is STABLE (as last reported, for a process). */
    boolean stable();

    /** Whether the group must settle with it: false while its process is frozen. */
    boolean counts();

    /** Hands over gracefully and stops. */
    void drain() throws Exception;

    /** Dies: kill -9 for a process; an in-process worker's session is ended on the server. */
    void crash() throws Exception;

    /** Leaves for a restart: its partitions stay reserved for its id for the restart grace. */
    void leaveForRestart() throws Exception;

    /** Freezes past its session timeout: SIGSTOP, or its thread held and its session ended. */
    void freeze() throws Exception;

    /** Runs again, with whatever it believed before the freeze. */
    void thaw() throws Exception;

    /** Stops without ceremony at the end of the demo. */
    void close();
  }

  private void staleWrite(String worker, String key, long token, String cause) {
    staleByCause.computeIfAbsent(cause, c -> new AtomicLong()).incrementAndGet();
    if (cause.equals("unexplained") && unexplainedSamples.size() < 5) {
      String row;
      try {
        row = ledger.row(key);
      } catch (SQLException e) {
        row = "unreadable: " + e.getMessage();
      }
      unexplainedSamples.add(worker + " wrote " + key + " with token " + token + "; row " + row);
    }
  }

  /**
   * How long after the server ends a worker's session the demo lets the worker's holds run on (see
   * {@link StrictHistory}): what the library promises for the way the demo ends sessions. Worker
   * processes lose theirs by timeout (kill -9, SIGSTOP), before which their session lease has
   * already ended: a tenth of the session timeout only covers reading the clocks and the watch's
   * delay. In one JVM the demo ends a session at once, through a second handle on it, which no
   * lease can foresee: the member stops when it hears or when its lease runs out, and {@code
   * SessionLease} keeps that at most 0.7 of the session timeout ahead.
   */
  private Duration leaseBound() {
    return Duration.ofMillis(processes ? sessionMs / 10 : sessionMs * 7 / 10);
  }

  /** Records one worker's holds into the strict history, under the session each was taken in. */
  private class HistoryRecorder implements DemoWork.Recorder {
    private final String id;

    HistoryRecorder(String id) {
      this.id = id;
    }

    @Override
    public void grantRead(long session, int partition, long token, long at) {
      history.grantRead(new Incarnation(id, session), partition, token, at);
    }

    @Override
    public void guard(
        long session,
        String key,
        int partition,
        long token,
        boolean fastPath,
        long opened,
        long closed) {
      history
          .guardOpened(
              new Incarnation(id, session),
              key,
              partition,
              StrictHistory.Mode.EXCLUSIVE,
              token,
              fastPath,
              opened)
          .close(closed);
    }

    @Override
    public void withdrawn(long session, long at) {
      history.withdrawn(new Incarnation(id, session), at);
    }
  }

  /**
   * Waits, up to ten seconds, until the key a paused worker holds has been written with a higher
   * token than its own, so that its write on resuming is one the fence can see. When no successor
   * wrote it by then (on a loaded machine, or when the partition went back to the paused worker's
   * own next session, whose processing thread is the paused one), the row is claimed with the
   * highest token issued for it, as a store that learns a new owner's token at takeover would be:
   * fencing can only refuse a writer once the store has seen a higher token, and the injected pause
   * is there to show that refusal, not the window before any successor wrote.
   */
  private void awaitSuccessorWrote(Map.Entry<String, Long> pausedAt) throws Exception {
    if (pausedAt == null) {
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ledger.token(pausedAt.getKey()) <= pausedAt.getValue() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    if (ledger.token(pausedAt.getKey()) <= pausedAt.getValue()) {
      ledger.claimIssued(pausedAt.getKey());
    }
  }

  /**
   * A worker in this JVM: its own session, its rebalancer, and a thread processing what it owns.
   */
  private final class LocalWorker implements Worker {
    final String id;
    final CuratorFramework client;
    final Rebalancer rebalancer;
    final DemoWork work;
    final Thread thread;
    final BlockingQueue<Map.Entry<String, Long>> parked = new LinkedBlockingQueue<>();
    Map.Entry<String, Long> pausedAt;

    LocalWorker(String id) throws InterruptedException {
      this.id = id;
      client = DemoGroup.workerClient(connectString, sessionMs);
      work =
          new DemoWork(
              id,
              keysByPartition,
              Duration.ofMillis(sessionMs),
              (key, token, cause) -> staleWrite(id, key, token, cause),
              new HistoryRecorder(id) {
                @Override
                public void parked(String key, long token) {
                  LocalWorker.this.parked.add(Map.entry(key, token));
                }
              });
      OwnershipListener counting =
          new OwnershipListener() {
            @Override
            public void onAssigned(List<Grant> grants) {
              activated.computeIfAbsent(id, k -> new AtomicLong()).addAndGet(grants.size());
            }
          };
      rebalancer = DemoGroup.rebalancer(id, client, work.after(counting), restartGrace);
      rebalancer.start();
      thread = new Thread(this::work, "demo-" + id);
      thread.setDaemon(true);
      thread.start();
    }

    private void work() {
      try (DemoLedger.Writer writer = ledger.new Writer()) {
        work.run(rebalancer, writer);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        if (work.running) {
          spec.commandLine().getErr().println("ringwork demo: worker " + id + " failed: " + e);
        }
      }
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public int owned() {
      return rebalancer.ownedPartitions().size();
    }

    @Override
    public boolean stable() {
      return rebalancer.state() == Rebalancer.State.STABLE;
    }

    @Override
    public boolean counts() {
      return true; // its rebalancer runs on: it rejoins with a new session during the freeze
    }

    @Override
    public void drain() throws Exception {
      work.running = false;
      rebalancer.drain(Duration.ofSeconds(10));
      close();
    }

    @Override
    public void crash() throws Exception {
      work.running = false;
      expire(client); // the server ends its session, as after a kill -9
      close();
    }

    @Override
    public void leaveForRestart() {
      work.running = false;
      work.resume();
      rebalancer.closeForRestart();
      client.close();
    }

    @Override
    public void freeze() throws Exception {
      work.pause(); // in its next guard-to-write window
      pausedAt = parked.poll(3, TimeUnit.SECONDS);
      expire(client); // paused past its session: the group moves on without it
    }

    @Override
    public void thaw() throws Exception {
      awaitSuccessorWrote(pausedAt);
      pausedAt = null;
      work.resume(); // it wakes and writes with its old token: the ledger refuses
    }

    @Override
    public void close() {
      work.running = false;
      work.resume();
      rebalancer.close();
      client.close();
    }
  }

  /** A worker as its own JVM ({@code ringwork demo-worker}): real kill -9 and SIGSTOP. */
  private final class ChildWorker implements Worker {
    final String id;
    final Process process;
    volatile int owned;
    volatile boolean stable;
    volatile boolean frozen;
    final CountDownLatch drained = new CountDownLatch(1);
    final HistoryRecorder recorder;
    final BlockingQueue<Map.Entry<String, Long>> parked = new LinkedBlockingQueue<>();
    volatile Map.Entry<String, Long> pausedAt;

    ChildWorker(String id) throws IOException {
      this.id = id;
      this.recorder = new HistoryRecorder(id);
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
                  connectString,
                  "--id",
                  id,
                  "--jdbc",
                  ledgerUrl,
                  "--resources",
                  Integer.toString(resources),
                  "--session-timeout",
                  Integer.toString(sessionMs)));
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      Thread reader = new Thread(this::read, "demo-read-" + id);
      reader.setDaemon(true);
      reader.start();
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
              childAccepted.put(id, n.path("accepted").asLong());
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
            case "withdrawn" ->
                recorder.withdrawn(n.path("session").asLong(), n.path("at").asLong());
            case "parked" ->
                parked.add(Map.entry(n.path("key").asText(), n.path("token").asLong()));
            case "stale" -> {
              childRejected.incrementAndGet();
              staleWrite(
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
      Thread resume =
          new Thread(
              () -> {
                try {
                  awaitSuccessorWrote(at);
                  command("resume"); // it writes with its old token: the ledger refuses
                } catch (Exception e) {
                  // the process ended meanwhile
                }
              },
              "demo-resume-" + id);
      resume.setDaemon(true);
      resume.start();
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

  /** Takes locks on random keys while owners work on them: the contested-resource path. */
  private final class Api {
    private final List<String> keys;
    private final Thread thread;
    private volatile boolean running = true;
    private final CuratorFramework client;
    private final KeyLocks locks;

    Api(List<String> keys) throws InterruptedException {
      this.keys = keys;
      client = ZooKeeperClients.connect(connectString);
      locks =
          KeyLocks.newBuilder()
              .client(client)
              .group(GROUP)
              .memberId("api")
              .router(KeyRouter.upTo('/'))
              .build();
      thread = new Thread(this::run, "demo-api");
      thread.setDaemon(true);
    }

    void start() {
      locks.start();
      thread.start();
    }

    private void run() {
      Random rnd = new Random(seed + 1);
      try (DemoLedger.Writer writer = ledger.new Writer()) {
        while (running) {
          String key = keys.get(rnd.nextInt(keys.size()));
          try (LockHandle h =
              locks.acquire(
                  LockRequest.of(key, LockMode.EXCLUSIVE)
                      .withPurpose("api update")
                      .withTimeout(Duration.ofSeconds(2)))) {
            Incarnation me =
                new Incarnation("api", client.getZookeeperClient().getZooKeeper().getSessionId());
            StrictHistory.Hold hold =
                history.lockAcquired(
                    me, key, StrictHistory.Mode.valueOf(h.mode().name()), h.token());
            try {
              writer.issuedKey(key, h.token());
              if (!writer.write(key, "api", h.token(), false)) {
                staleWrite(
                    "api", key, h.token(), h.state() == LockState.LOST ? "lost" : "unexplained");
              }
            } finally {
              hold.close(); // as it releases: the next holder may be granted before the reply
            }
            lockHolds.incrementAndGet();
          } catch (LockTimeoutException e) {
            lockTimeouts.incrementAndGet();
          }
          Thread.sleep(100);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        if (running) {
          spec.commandLine().getErr().println("ringwork demo: api failed: " + e);
        }
      }
    }

    void stop() throws InterruptedException {
      running = false;
      thread.join(5000);
      locks.close();
      client.close();
    }
  }

  // ---------------------------------------------------------------- faults

  private void inject(String kind, Random rnd) throws Exception {
    faultCounts.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    long t0 = System.nanoTime();
    double at = (t0 - startedNanos) / 1e9;
    lastFault = kind;
    try {
      inject(kind, rnd, t0);
    } finally {
      faultTimes.add(Map.entry(at, lastFault)); // with the worker chosen, e.g. "crash w3"
    }
  }

  private void inject(String kind, Random rnd, long t0) throws Exception {
    switch (kind) {
      case "join" -> {
        Worker joined = newWorker();
        lastFault = "join " + joined.id();
        live.add(joined);
      }
      case "connection" -> {
        // Every session is cut off; the server comes back on the same port with the same data
        // within the session timeout, so sessions survive: SUSPENDED, then RECONNECTED.
        zk.close();
        zk = EmbeddedZooKeeper.start(zkDir, zkPort);
        // Measure from the fault to the group's recovery, not to before anyone noticed.
        long noticed = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < noticed && live.stream().allMatch(Worker::stable)) {
          Thread.sleep(5);
        }
      }
      case "drain" -> {
        if (live.size() > 1) {
          Worker w = live.remove(rnd.nextInt(live.size()));
          lastFault = "drain " + w.id();
          w.drain();
        }
      }
      case "crash", "leader" -> {
        if (live.size() > 1) {
          Worker w = kind.equals("leader") ? leader() : live.get(rnd.nextInt(live.size()));
          live.remove(w);
          lastFault = kind + " " + w.id();
          w.crash();
          live.add(newWorker()); // a replacement comes up
        }
      }
      case "pause" -> {
        Worker w = live.get(rnd.nextInt(live.size()));
        lastFault = "pause " + w.id();
        w.freeze();
        awaitStable(Duration.ofSeconds(30)); // the group moves on without it
        handoffMillis
            .computeIfAbsent(kind, k -> new ArrayList<>())
            .add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        w.thaw();
        return;
      }
      case "restart" -> {
        rollingRestart(t0);
        return;
      }
      default -> throw new IllegalStateException("unknown fault " + kind);
    }
    awaitStable(Duration.ofSeconds(30));
    handoffMillis
        .computeIfAbsent(kind, k -> new ArrayList<>())
        .add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  /**
   * Restarts every live worker in turn with the same id: it leaves for a restart (its partitions
   * stay reserved for it), a new worker with its id starts, the group settles. Counts every
   * partition activated on another worker meanwhile as moved, and each restart's time from the
   * leave to the settled group as its handoff.
   */
  private void rollingRestart(long t0) throws Exception {
    restarts++;
    for (int i = 0; i < live.size(); i++) {
      Worker w = live.get(i);
      lastFault = "restart " + w.id();
      long start = System.nanoTime();
      Map<String, Long> before = new HashMap<>();
      activated.forEach((id, n) -> before.put(id, n.get()));
      w.leaveForRestart();
      Worker back = new LocalWorker(w.id());
      live.set(i, back);
      awaitStable(Duration.ofSeconds(30));
      activated.forEach(
          (id, n) -> {
            if (!id.equals(w.id())) {
              restartMoves.addAndGet(n.get() - before.getOrDefault(id, 0L));
            }
          });
      handoffMillis
          .computeIfAbsent("restart", k -> new ArrayList<>())
          .add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }
  }

  private Worker leader() throws Exception {
    String leader = GroupStatus.read(observer, GroupPaths.of("/ringwork", GROUP).root()).leader();
    for (Worker w : live) {
      if (w.id().equals(leader)) {
        return w;
      }
    }
    return live.get(0);
  }

  /** Ends a client's session on the server: a second handle on the same session closes it. */
  private void expire(CuratorFramework client) throws Exception {
    ZooKeeper mine = client.getZookeeperClient().getZooKeeper();
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper twin =
        new ZooKeeper(
            connectString,
            sessionMs,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            },
            mine.getSessionId(),
            mine.getSessionPasswd());
    try {
      connected.await(10, TimeUnit.SECONDS);
    } finally {
      twin.close();
    }
  }

  /**
   * Waits until the group has settled on the live workers: every one stable, every partition owned
   * by exactly one of them, and each of them owning some (so a joiner has been given its share).
   */
  private boolean awaitStable(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      boolean settled = true;
      int owned = 0;
      for (Worker w : live) {
        if (w.counts()) {
          int n = w.owned();
          owned += n;
          settled &= n > 0 && w.stable();
        }
      }
      if (settled && owned == PARTITIONS) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  // ---------------------------------------------------------------- report

  private synchronized void sampleOwnership() {
    double second = (System.nanoTime() - startedNanos) / 1e9;
    for (Worker w : live) {
      sampleOwned
          .computeIfAbsent(w.id(), id -> new ArrayList<>())
          .add(new double[] {second, w.counts() ? w.owned() : 0});
    }
  }

  private synchronized void status(PrintWriter err) {
    double second = (System.nanoTime() - startedNanos) / 1e9;
    long accepted = accepted();
    double elapsed = sampleSeconds.isEmpty() ? second : second - lastSecond;
    sampleSeconds.add(second);
    sampleWrites.add(elapsed <= 0 ? 0 : (accepted - lastAccepted) / elapsed);
    lastAccepted = accepted;
    lastSecond = second;
    int rebalancing = 0;
    List<String> owned = new ArrayList<>();
    for (Worker w : live) {
      owned.add(w.id() + " " + (w.counts() ? Integer.toString(w.owned()) : "paused"));
      if (w.counts() && !w.stable()) {
        rebalancing++;
      }
    }
    String b =
        statusLine(
            second,
            owned,
            lastFault,
            accepted,
            ledger.rejected.get() + childRejected.get(),
            rebalancing,
            lockHolds.get(),
            lockTimeouts.get());
    if (TERMINAL) {
      // One line, refreshed in place; cut to the terminal's width, since a wrapped line is not.
      err.print("\r\033[K" + b.substring(0, Math.min(b.length(), terminalWidth() - 1)));
    } else {
      err.println(b);
    }
    err.flush();
  }

  private static int terminalWidth() {
    try {
      return Math.max(40, Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "120")));
    } catch (NumberFormatException e) {
      return 120;
    }
  }

  /**
   * On a terminal the status line is refreshed in place, so log lines written to the same stderr
   * would glue onto it: they go to a file instead (unless a log file is already configured), and
   * its path is printed once. Must run before the first logger is created.
   */
  private static void logsAwayFromTheStatusLine(PrintWriter err) throws IOException {
    String property = "org.slf4j.simpleLogger.logFile";
    if (!TERMINAL || System.getProperty(property) != null) {
      return;
    }
    Path log = Files.createTempFile("ringwork-demo-", ".log");
    System.setProperty(property, log.toString());
    err.println("ringwork demo: logs in " + log);
    err.flush();
  }

  /**
   * The live status line: the time, each worker with its partitions, the fault in progress or last
   * injected ({@code fault: crash w3}), writes, stale writes rejected, handoffs and API locks.
   */
  static String statusLine(
      double second,
      List<String> workers,
      String fault,
      long writes,
      long rejected,
      int rebalancing,
      long locks,
      long lockTimeouts) {
    return String.format(
        Locale.ROOT,
        "ringwork demo %4.0fs: %s | fault: %s | writes %d, stale rejected %d, handoffs %d,"
            + " api locks %d (timed out %d)",
        second,
        String.join(", ", workers),
        fault == null ? "none yet" : fault,
        writes,
        rejected,
        rebalancing,
        locks,
        lockTimeouts);
  }

  /** Writes the store took so far (a worker process's, as it last reported). */
  private long accepted() {
    long sum = ledger.accepted.get();
    for (long n : childAccepted.values()) {
      sum += n;
    }
    return sum;
  }

  private long stale(String cause) {
    AtomicLong n = staleByCause.get(cause);
    return n == null ? 0 : n.get();
  }

  private ObjectNode report(long nanos) throws Exception {
    long unprocessed = ledger.unprocessed();
    List<String> violations = history.violations(leaseBound());
    int overlaps = violations.size();
    long unexplained = stale("unexplained");
    long staleAccepted = ledger.staleAccepted();
    ObjectNode r = JSON.createObjectNode();
    r.put("format", Reports.FORMAT);
    r.put(
        "verdict",
        unprocessed == 0 && overlaps == 0 && unexplained == 0 && staleAccepted == 0
            ? "pass"
            : "fail");
    r.put("mode", processes ? "processes" : "in-process");
    ArrayNode failed = r.putArray("failedChecks");
    if (unprocessed > 0) {
      failed.add("unprocessed");
    }
    if (overlaps > 0) {
      failed.add("overlaps");
    }
    if (unexplained > 0) {
      failed.add("unexplainedStaleWrites");
    }
    if (staleAccepted > 0) {
      failed.add("staleWritesAccepted");
    }
    r.put("resources", resources);
    r.put("unprocessed", unprocessed);
    if (unprocessed > 0) {
      unprocessedSamples(r.putArray("unprocessedSamples"));
    }
    r.put("overlaps", overlaps);
    r.put("holdsChecked", history.size());
    r.put("leaseBoundMillis", leaseBound().toMillis());
    if (overlaps > 0) {
      violations.subList(0, Math.min(5, overlaps)).forEach(r.putArray("overlapSamples")::add);
    }
    r.put("writes", ledger.writes());
    long rejected = 0;
    ObjectNode causes = JSON.createObjectNode();
    for (String cause : DemoWork.CAUSES) {
      causes.put(cause, stale(cause));
      rejected += stale(cause);
    }
    r.put("staleWritesRejected", rejected);
    r.put("staleWritesAccepted", staleAccepted);
    if (staleAccepted > 0) {
      ledger.staleRows().forEach(r.putArray("staleAcceptedSamples")::add);
    }
    r.set("staleWritesByCause", causes);
    if (unexplained > 0) {
      unexplainedSamples.forEach(r.putArray("unexplainedSamples")::add);
    }
    ObjectNode f = r.putObject("faults");
    faultCounts.forEach((k, v) -> f.put(k, v.get()));
    if (restarts > 0) {
      ObjectNode rr = r.putObject("restarts");
      rr.put("rollingRestarts", restarts);
      rr.put("workersRestarted", handoffMillis.getOrDefault("restart", List.of()).size());
      rr.put("movedToOthers", restartMoves.get());
      rr.put("graceMillis", RESTART_GRACE.toMillis());
    }
    ObjectNode h = r.putObject("handoffMillis");
    handoffMillis.forEach(
        (k, v) -> {
          List<Long> sorted = new ArrayList<>(v);
          Collections.sort(sorted);
          ObjectNode o = h.putObject(k);
          o.put("p50", sorted.get((sorted.size() - 1) / 2));
          o.put(
              "p99",
              sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1)));
        });
    int max = 0;
    int sum = 0;
    for (Worker w : live) {
      int n = w.owned();
      max = Math.max(max, n);
      sum += n;
    }
    r.put("workers", live.size());
    r.put("peakToAverage", sum == 0 ? 0 : max / ((double) sum / live.size()));
    ObjectNode l = r.putObject("locks");
    l.put("held", lockHolds.get());
    l.put("timedOut", lockTimeouts.get());
    r.put("durationMillis", TimeUnit.NANOSECONDS.toMillis(nanos));
    return r;
  }

  /**
   * The first unprocessed keys, each with its partition, the partition's owner now and the key's
   * row in the ledger (last owner and token): where to look when the check fails.
   */
  private void unprocessedSamples(ArrayNode samples) throws Exception {
    Partitioner part = Partitioner.of(PARTITIONS, KeyRouter.upTo('/'));
    Ring ring = null;
    try {
      ring =
          GroupStatus.liveRing(
              observer, GroupPaths.of("/ringwork", GROUP).root(), KeyRouter.upTo('/'));
    } catch (IllegalArgumentException noTable) {
      // no owners to name
    }
    for (String key : ledger.unprocessedKeys(5)) {
      ObjectNode o = samples.addObject();
      o.put("key", key);
      o.put("partition", part.partition(key));
      Member owner = ring == null ? null : ring.primary(key);
      if (owner == null) {
        o.putNull("owner");
      } else {
        o.put("owner", owner.id());
      }
      o.put("row", ledger.row(key));
    }
  }

  static void table(PrintWriter out, ObjectNode r) {
    out.printf(
        "verdict: %s (%s)%n",
        r.path("verdict").asText().toUpperCase(Locale.ROOT), r.path("mode").asText());
    for (JsonNode check : r.path("failedChecks")) {
      switch (check.asText()) {
        case "unprocessed" -> {
          out.printf(
              "failed check: unprocessed: %d resources were never processed; first:%n",
              r.path("unprocessed").asLong());
          for (JsonNode k : r.path("unprocessedSamples")) {
            out.printf(
                "  %s partition %d, owner now %s, ledger row: %s%n",
                k.path("key").asText(),
                k.path("partition").asInt(),
                k.path("owner").isNull() ? "none" : k.path("owner").asText(),
                k.path("row").asText());
          }
        }
        case "overlaps" -> {
          out.printf(
              "failed check: overlaps: %d pairs of holds of one partition overlapped; first:%n",
              r.path("overlaps").asLong());
          r.path("overlapSamples").forEach(h -> out.printf("  %s%n", h.asText()));
        }
        case "staleWritesAccepted" -> {
          out.printf(
              "failed check: staleWritesAccepted: %d writes were accepted with a token below one"
                  + " already issued; first:%n",
              r.path("staleWritesAccepted").asLong());
          r.path("staleAcceptedSamples").forEach(h -> out.printf("  %s%n", h.asText()));
        }
        default -> {
          out.printf(
              "failed check: unexplainedStaleWrites: %d stale writes no fault explains; first:%n",
              r.path("staleWritesByCause").path("unexplained").asLong());
          r.path("unexplainedSamples").forEach(h -> out.printf("  %s%n", h.asText()));
        }
      }
    }
    out.printf(
        "resources %d, unprocessed %d, overlapping holds %d%n",
        r.path("resources").asLong(), r.path("unprocessed").asLong(), r.path("overlaps").asLong());
    out.printf(
        "fenced writes %d accepted, %d stale rejected %s, %d stale accepted%n",
        r.path("writes").asLong(),
        r.path("staleWritesRejected").asLong(),
        r.path("staleWritesByCause"),
        r.path("staleWritesAccepted").asLong());
    out.printf("faults %s, handoff ms %s%n", r.path("faults"), r.path("handoffMillis"));
    if (r.has("standby")) {
      JsonNode h = r.path("standby").path("handoffToFirstWriteMillis");
      out.printf(
          "handoff to first write, warm-up %d ms: standby p50 %s ms (%d), cold owner p50 %s ms"
              + " (%d)%n",
          r.path("standby").path("warmupMillis").asLong(),
          h.path("standby").path("p50").asText("-"),
          h.path("standby").path("count").asInt(),
          h.path("coldOwner").path("p50").asText("-"),
          h.path("coldOwner").path("count").asInt());
    }
    JsonNode rr = r.path("restarts");
    if (rr.isObject()) {
      out.printf(
          "rolling restarts %d: %d workers restarted, %d partitions moved to other workers"
              + " (restart grace %d s)%n",
          rr.path("rollingRestarts").asInt(),
          rr.path("workersRestarted").asInt(),
          rr.path("movedToOthers").asLong(),
          rr.path("graceMillis").asLong() / 1000);
    }
    out.printf(
        "%d workers at the end, peak/average %.2f; api locks %d held, %d timed out; %.1f s%n",
        r.path("workers").asInt(),
        r.path("peakToAverage").asDouble(),
        r.path("locks").path("held").asLong(),
        r.path("locks").path("timedOut").asLong(),
        r.path("durationMillis").asLong() / 1000.0);
  }

  /**
   * Refuses a ledger URL the demo cannot use before anything starts: one no driver takes or that
   * does not connect, and an in-memory H2 database without {@code DB_CLOSE_DELAY=-1}, which
   * vanishes with each connection the ledger closes (the demo would run and fail at the end).
   *
   * @throws InputException naming the URL and what is wrong
   */
  static void checkJdbc(String url) {
    if (url.startsWith("jdbc:h2:mem:")
        && !url.toUpperCase(Locale.ROOT).contains("DB_CLOSE_DELAY=-1")) {
      throw new InputException(
          "--jdbc "
              + url
              + ": an in-memory H2 database is dropped when its last connection closes, and the"
              + " ledger closes each one; add ;DB_CLOSE_DELAY=-1, or leave --jdbc out for the"
              + " default in-memory ledger");
    }
    DriverManager.setLoginTimeout(10);
    try (Connection c = DriverManager.getConnection(url)) {
      c.isValid(10);
    } catch (SQLException e) {
      throw new InputException("--jdbc " + url + ": cannot connect: " + e.getMessage());
    }
  }
}
