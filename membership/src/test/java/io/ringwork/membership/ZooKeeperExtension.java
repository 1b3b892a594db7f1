package io.ringwork.membership;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The shared ZooKeeper test fixture: a real server ({@link TestingServer}) or ensemble ({@link
 * TestingCluster}) per test, an observer client for assertions, and after each test a check that
 * nothing leaked: no ephemeral node is left anywhere and no server holds a watch, once every
 * component the test started is closed (Curator's {@code TestCleanState}, as a JUnit 5 extension).
 *
 * <pre>{@code
 * @RegisterExtension final ZooKeeperExtension zk = ZooKeeperExtension.server();
 * }</pre>
 *
 * <p>Waits are scaled from one property through {@link #wait(Duration)}.
 */
public final class ZooKeeperExtension implements BeforeEachCallback, AfterEachCallback {

  /** Multiplies every wait of the tests: {@code -Dringwork.test.timing=2} on a slow machine. */
  public static final String TIMING_PROPERTY = "ringwork.test.timing";

  private final int servers;
  private TestingServer server;
  private TestingCluster cluster;
  private CuratorFramework observer;
  private boolean leakCheck = true;

  private ZooKeeperExtension(int servers) {
    this.servers = servers;
  }

  /** One server per test. */
  public static ZooKeeperExtension server() {
    return new ZooKeeperExtension(1);
  }

  /** An ensemble of {@code n} servers per test. */
  public static ZooKeeperExtension cluster(int n) {
    return new ZooKeeperExtension(n);
  }

  /**
   * Ends a client's session on the server, as its expiry would: a second handle on the same session
   * closes it (the classic way to expire a session in a test), so its ephemeral nodes go at once.
   */
  public static void expireSession(CuratorFramework client) throws Exception {
    ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper twin =
        new ZooKeeper(
            client.getZookeeperClient().getCurrentConnectionString(),
            4000,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            },
            zk.getSessionId(),
            zk.getSessionPasswd());
    try {
      if (!connected.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("could not attach to session " + zk.getSessionId());
      }
    } finally {
      twin.close();
    }
  }

  /** Returns {@code base} scaled by {@value #TIMING_PROPERTY} (1 by default). */
  public static Duration wait(Duration base) {
    double factor = Double.parseDouble(System.getProperty(TIMING_PROPERTY, "1"));
    return Duration.ofMillis((long) (base.toMillis() * factor));
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    // The leak check asks the servers for their watches with the 'wchs' four-letter word.
    System.setProperty("zookeeper.4lw.commands.whitelist", "*");
    if (servers == 1) {
      server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, 1000), true);
    } else {
      cluster = new TestingCluster(servers);
      cluster.start();
    }
    // No ensemble tracker: it would watch /zookeeper/config and count as a leaked watch.
    observer =
        CuratorFrameworkFactory.builder()
            .connectString(connectString())
            .retryPolicy(new RetryOneTime(200))
            .ensembleTracker(false)
            .build();
    observer.start();
    leakCheck = true;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    try {
      if (leakCheck && context.getExecutionException().isEmpty()) {
        assertNoLeaks();
      }
    } finally {
      observer.close();
      if (server != null) {
        server.close();
      }
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  /** Skips the leak check of this test, for one that leaves a session behind on purpose. */
  public void skipLeakCheck() {
    leakCheck = false;
  }

  /** Returns the connect string of the server or ensemble. */
  public String connectString() {
    return server != null ? server.getConnectString() : cluster.getConnectString();
  }

  /** Returns a started client for assertions; it sets no watches. */
  public CuratorFramework client() {
    return observer;
  }

  /** Returns the server, for a one-server fixture. */
  public TestingServer testingServer() {
    return server;
  }

  /** Returns the ensemble, for a cluster fixture. */
  public TestingCluster testingCluster() {
    return cluster;
  }

  /**
   * Asserts, waiting a little for sessions that are closing, that no ephemeral node exists and that
   * no running server holds a watch.
   */
  public void assertNoLeaks() {
    assertNoLeaks(wait(Duration.ofSeconds(10)));
  }

  /** Like {@link #assertNoLeaks()}, waiting at most {@code timeout}. */
  public void assertNoLeaks(Duration timeout) {
    List<Integer> ports = new ArrayList<>();
    if (server != null) {
      ports.add(server.getPort());
    } else {
      for (InstanceSpec spec : cluster.getInstances()) {
        ports.add(spec.getPort());
      }
    }
    assertNoLeaks(observer, ports, timeout);
  }

  /**
   * The leak check for an ensemble a test built itself: waits at most {@code timeout} until no
   * ephemeral node exists (as {@code observer} reads the tree) and no server listening on one of
   * {@code clientPorts} holds a watch. {@code observer} must set no watches.
   */
  public static void assertNoLeaks(
      CuratorFramework observer, List<Integer> clientPorts, Duration timeout) {
    Awaitility.await()
        .atMost(timeout)
        .untilAsserted(
            () -> {
              assertThat(ephemerals(observer, "/")).as("ephemeral nodes left behind").isEmpty();
              long watches = 0;
              for (int port : clientPorts) {
                watches += watchesOf(port);
              }
              assertThat(watches).as("watches left behind ('wchs' per server)").isZero();
            });
  }

  /**
   * Sends a four-letter word ({@code srvr}, {@code wchs}, ...) to the server on 127.0.0.1:{@code
   * port} and returns its whole answer, or an empty string when the server cannot be reached. The
   * words must be allowed ({@code zookeeper.4lw.commands.whitelist}, which {@link #beforeEach} sets
   * to every word).
   */
  public static String fourLetterWord(int port, String word) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write(word.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (Exception e) {
      return ""; // a server that is down answers nothing
    }
  }

  private static List<String> ephemerals(CuratorFramework observer, String path) throws Exception {
    List<String> found = new ArrayList<>();
    for (String child : observer.getChildren().forPath(path)) {
      String full = path.equals("/") ? "/" + child : path + "/" + child;
      if (full.equals("/zookeeper")) {
        continue;
      }
      Stat stat = observer.checkExists().forPath(full);
      if (stat == null) {
        continue;
      }
      if (stat.getEphemeralOwner() != 0) {
        found.add(full + " (session 0x" + Long.toHexString(stat.getEphemeralOwner()) + ")");
      }
      if (stat.getNumChildren() > 0) {
        found.addAll(ephemerals(observer, full));
      }
    }
    return found;
  }

  private static long watchesOf(int port) {
    for (String line : fourLetterWord(port, "wchs").split("\n")) {
      if (line.startsWith("Total watches:")) {
        return Long.parseLong(line.substring("Total watches:".length()).trim());
      }
    }
    return 0; // a server that is down holds no watch
  }
}
