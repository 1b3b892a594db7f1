package io.ringwork.simulator.demo;

import io.ringwork.membership.EmbeddedZooKeeper;
import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.simulator.cli.ConnectTimeoutOption;
import io.ringwork.simulator.cli.ZooKeeperClients;
import io.ringwork.test.StrictHistory;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.h2.tools.Server;

/**
 * One demo run's world, shared by its parts: the ZooKeeper server (embedded or given), the ledger,
 * the live workers, the strict history of their holds, and the counters the report reads.
 */
final class DemoRun implements AutoCloseable {

  /** What the command line fixed for the run. */
  record Settings(
      int resources,
      int sessionMs,
      long seed,
      boolean processes,
      Duration restartGrace,
      PrintWriter err) {}

  final Settings settings;
  final StrictHistory history = StrictHistory.create();
  final List<Worker> live = new CopyOnWriteArrayList<>();

  // Counters, written by workers and the API actor, read by the status line and the report.
  final Map<String, AtomicLong> staleByCause = new ConcurrentHashMap<>();
  final List<String> unexplainedSamples = new CopyOnWriteArrayList<>();
  final Map<String, Long> childAccepted = new ConcurrentHashMap<>();
  final AtomicLong childRejected = new AtomicLong();
  final AtomicLong lockHolds = new AtomicLong();
  final AtomicLong lockTimeouts = new AtomicLong();

  /** Partitions activated per worker id, counted from the callbacks (for the restart fault). */
  final Map<String, AtomicLong> activated = new ConcurrentHashMap<>();

  /** Partitions moved to another worker by restarts: each counted when it is activated there. */
  final AtomicLong restartMoves = new AtomicLong();

  final Map<String, AtomicLong> faultCounts = new TreeMap<>();
  final Map<String, List<Long>> handoffMillis = new TreeMap<>();
  int restarts;

  private volatile EmbeddedZooKeeper zk;
  private Path zkDir;
  private int zkPort;
  String connectString;
  Map<Integer, List<String>> keysByPartition;
  DemoLedger ledger;
  String ledgerUrl;
  CuratorFramework observer;
  private Server h2;
  private AutoCloseable sessionWatch;
  private int nextId;

  DemoRun(Settings settings) {
    this.settings = settings;
  }

  /**
   * Starts an embedded server on a free loopback port, or checks that {@code connect} answers
   * (failing fast, with one line, when it does not).
   */
  void startServer(String connect, ConnectTimeoutOption connectTimeout) throws Exception {
    if (connect == null) {
      zkDir = Files.createTempDirectory("ringwork-demo-zk");
      zkPort = freePort();
      zk = EmbeddedZooKeeper.start(zkDir, zkPort);
      connectString = zk.connectString();
    } else {
      connectString = connect;
      ZooKeeperClients.connect(connect, null, connectTimeout).close();
    }
  }

  /**
   * Restarts the embedded server on the same port with the same data: every session is cut off and,
   * back within the session timeout, survives (SUSPENDED, then RECONNECTED).
   */
  void restartServer() throws Exception {
    zk.close();
    zk = EmbeddedZooKeeper.start(zkDir, zkPort);
  }

  /**
   * Creates the ledger of {@code keys} ({@code jdbc}, or an in-memory H2 table) and, for worker
   * processes, serves an in-memory table over TCP on loopback; connects the observer.
   */
  void startLedger(List<String> keys, String jdbc) throws Exception {
    keysByPartition = DemoGroup.keysByPartition(keys);
    String db = "ringwork-demo-" + ProcessHandle.current().pid();
    String url = jdbc != null ? jdbc : "jdbc:h2:mem:" + db + ";DB_CLOSE_DELAY=-1";
    ledger = DemoLedger.create(url, keysByPartition);
    ledgerUrl = url;
    if (settings.processes() && jdbc == null) {
      // The workers reach this JVM's in-memory table through an H2 TCP server on loopback only.
      System.setProperty("h2.bindAddress", "127.0.0.1");
      h2 = Server.createTcpServer("-tcpPort", Integer.toString(freePort())).start();
      ledgerUrl = "jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/mem:" + db;
    }
    observer = ZooKeeperClients.connect(connectString);
  }

  /** Starts watching the members' sessions for the strict history (once the group is up). */
  void watchSessions() throws Exception {
    sessionWatch =
        history.watchSessions(observer, GroupPaths.of("/ringwork", DemoGroup.GROUP).members());
  }

  /** Starts a worker with a new id: in this JVM, or as its own process. */
  Worker newWorker() throws Exception {
    String id = "w" + (++nextId);
    return settings.processes() ? new ChildWorker(this, id) : new LocalWorker(this, id);
  }

  /** Counts a stale write by its cause; keeps the first few unexplained ones with their rows. */
  void staleWrite(String worker, String key, long token, String cause) {
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

  /** Stale writes counted with {@code cause}. */
  long stale(String cause) {
    AtomicLong n = staleByCause.get(cause);
    return n == null ? 0 : n.get();
  }

  /** Writes the store took so far (a worker process's, as it last reported). */
  long accepted() {
    long sum = ledger.accepted.get();
    for (long n : childAccepted.values()) {
      sum += n;
    }
    return sum;
  }

  /** Records how long a fault of {@code kind} took, from {@code t0} until now. */
  void handoff(String kind, long t0) {
    handoffMillis
        .computeIfAbsent(kind, k -> new ArrayList<>())
        .add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
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
  Duration leaseBound() {
    int sessionMs = settings.sessionMs();
    return Duration.ofMillis(settings.processes() ? sessionMs / 10 : sessionMs * 7 / 10);
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
  void awaitSuccessorWrote(Map.Entry<String, Long> pausedAt) throws Exception {
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
   * Waits until the group has settled on the live workers: every one stable, every partition owned
   * by exactly one of them, and each of them owning some (so a joiner has been given its share).
   */
  boolean awaitStable(Duration timeout) throws InterruptedException {
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
      if (settled && owned == DemoGroup.PARTITIONS) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  /** The live worker that leads the group (the first live one when none is known). */
  Worker leader() throws Exception {
    String leader =
        GroupStatus.read(observer, GroupPaths.of("/ringwork", DemoGroup.GROUP).root()).leader();
    for (Worker w : live) {
      if (w.id().equals(leader)) {
        return w;
      }
    }
    return live.get(0);
  }

  /**
   * Ends a client's session on the server: a second handle on the same session closes it. The
   * history is told (as a forced end, {@link StrictHistory#sessionClosed}): no lease can foresee an
   * instant close, and the observer's watch on the member nodes may miss the node's deletion (a
   * persistent watch drops events while its client reconnects, as after the connection fault),
   * which left the demo flagging the frozen worker's guard as an overlap it could not excuse.
   */
  void expire(String id, CuratorFramework client) throws Exception {
    ZooKeeper mine = client.getZookeeperClient().getZooKeeper();
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper twin =
        new ZooKeeper(
            connectString,
            settings.sessionMs(),
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            },
            mine.getSessionId(),
            mine.getSessionPasswd());
    boolean attached = false;
    long at;
    try {
      attached = connected.await(10, TimeUnit.SECONDS);
    } finally {
      at = System.nanoTime(); // the end is no earlier than this
      twin.close();
    }
    if (attached) {
      history.sessionClosed(new StrictHistory.Incarnation(id, mine.getSessionId()), 0, at);
    }
  }

  @Override
  public void close() throws Exception {
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

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
