package io.ringwork.test;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real ZooKeeper for a service's own tests, with the faults a service must survive: a member's
 * session expired by the server, a member's connection dropped, the server (or one server of an
 * ensemble) stopped and restarted. Ringwork's own tests use it too.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RingworkZooKeeper zk = RingworkZooKeeper.embedded();
 *
 * @Test
 * void survivesSessionExpiry() throws Exception {
 *   CuratorFramework client = ...;   // started, on zk.connectString()
 *   Rebalancer r = Rebalancer.newBuilder().curator(client)...build();
 *   r.start();
 *   zk.expireSession(client);   // the server ends the session: ephemeral nodes go
 *   ...
 * }
 * }</pre>
 *
 * <p>A {@code static} field gives the test class one server; an instance field gives each test its
 * own (created before it, closed after it).
 *
 * <p>{@link #embedded()} runs the server in this JVM and needs nothing else; {@link #ensemble(int)}
 * runs several. {@link #container(String)} runs an official ZooKeeper image through Testcontainers
 * and needs Docker and {@code org.testcontainers:testcontainers} on the test class path; mark such
 * tests with {@code @Testcontainers(disabledWithoutDocker = true)}.
 *
 * <p>{@link #checkingLeaks()} adds, after each test that passed, a check that nothing leaked: no
 * ephemeral node is left anywhere and no server holds a watch, once every component the test
 * started is closed (Curator's {@code TestCleanState}). Waits in tests scale with one property,
 * {@value #TIMING_PROPERTY}, through {@link #scaled(Duration)}.
 *
 * <p>No method declares a checked exception: a fault that cannot be made (the server does not stop
 * or restart, a session cannot be reached) throws an {@link IllegalStateException} that names what
 * failed, with the cause attached; an interrupt sets the thread's interrupt flag again and throws
 * the same.
 */
public final class RingworkZooKeeper
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

  /** Multiplies every wait of the tests: {@code -Dringwork.test.timing=2} on a slow machine. */
  public static final String TIMING_PROPERTY = "ringwork.test.timing";

  /** How long the after-each leak check waits for sessions that are closing, before scaling. */
  private static final Duration LEAK_WAIT = Duration.ofSeconds(10);

  /** Where the server runs. */
  interface Backend extends AutoCloseable {
    /** Starts a backend. */
    interface Factory {
      Backend create() throws Exception;
    }

    String connectString();

    /** The client port of each server. */
    List<Integer> clientPorts();

    /** Stops every server. */
    void stop() throws Exception;

    /** Restarts every server. */
    void restart() throws Exception;

    /** Stops one server of an ensemble. */
    default void stop(int server) throws Exception {
      throw new UnsupportedOperationException("stopServer(int) is for an ensemble");
    }

    /** Restarts one server of an ensemble. */
    default void restart(int server) throws Exception {
      throw new UnsupportedOperationException("restartServer(int) is for an ensemble");
    }

    @Override
    void close() throws Exception;
  }

  private final Backend.Factory factory;
  private final boolean leakCheck;
  private Backend backend;
  private boolean perTest;
  private CuratorFramework observer;
  private boolean skipLeakCheck;

  private RingworkZooKeeper(Backend.Factory factory, boolean leakCheck) {
    this.factory = factory;
    this.leakCheck = leakCheck;
  }

  /** A server in this JVM (curator-test's {@link TestingServer}, 200 ms tick). */
  public static RingworkZooKeeper embedded() {
    return new RingworkZooKeeper(EmbeddedBackend::new, false);
  }

  /**
   * An ensemble of {@code servers} servers in this JVM (curator-test's {@link TestingCluster}).
   *
   * @throws IllegalArgumentException if {@code servers} is less than 1
   */
  public static RingworkZooKeeper ensemble(int servers) {
    if (servers < 1) {
      throw new IllegalArgumentException("servers must be at least 1, got " + servers);
    }
    return new RingworkZooKeeper(() -> new EnsembleBackend(servers), false);
  }

  /**
   * This fixture with a leak check after each test that passed: no ephemeral node and no watch left
   * (see {@link #assertNoLeaks()}). Not for a container.
   */
  public RingworkZooKeeper checkingLeaks() {
    return new RingworkZooKeeper(factory, true);
  }

  /**
   * Returns {@code base} multiplied by the system property {@value #TIMING_PROPERTY} (1 by
   * default), for every wait of a test.
   *
   * @throws NumberFormatException if the property is not a number
   */
  public static Duration scaled(Duration base) {
    double factor = Double.parseDouble(System.getProperty(TIMING_PROPERTY, "1"));
    return Duration.ofMillis((long) (base.toMillis() * factor));
  }

  /**
   * A server in a Docker container of {@code image}, for example {@code "zookeeper:3.9"}.
   *
   * @throws NullPointerException if the image is null
   */
  public static RingworkZooKeeper container(String image) {
    Objects.requireNonNull(image, "image");
    return new RingworkZooKeeper(() -> new ContainerBackend(image), false);
  }

  /**
   * Starts the server before the test class (a {@code static} field).
   *
   * @throws IllegalStateException if it cannot be started
   */
  @Override
  public void beforeAll(ExtensionContext context) {
    start();
  }

  /**
   * Starts the server before each test when the fixture is an instance field (JUnit calls {@link
   * #beforeAll} only for a {@code static} one).
   *
   * @throws IllegalStateException if it cannot be started
   */
  @Override
  public void beforeEach(ExtensionContext context) {
    skipLeakCheck = false;
    if (backend == null) {
      perTest = true;
      start();
    }
  }

  /**
   * Checks for leaks after a test that passed (with {@link #checkingLeaks()}), then closes a
   * per-test server.
   *
   * @throws AssertionError if something leaked
   * @throws IllegalStateException if the server cannot be closed, naming it
   */
  @Override
  public void afterEach(ExtensionContext context) {
    try {
      if (leakCheck && !skipLeakCheck && context.getExecutionException().isEmpty()) {
        assertNoLeaks();
      }
    } finally {
      if (perTest) {
        close();
      }
    }
  }

  /**
   * Stops the server and deletes its data after the test class.
   *
   * @throws IllegalStateException if it cannot be closed, naming it
   */
  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  private void start() {
    // The leak check and fourLetterWord ask the embedded servers with four-letter words.
    System.setProperty("zookeeper.4lw.commands.whitelist", "*");
    backend = attempt("start the ZooKeeper server", factory::create);
    // Started with the server, not on first use: a test that compares its threads before and after
    // the code under test must not count the fixture's client.
    client();
  }

  private void close() {
    if (backend == null) {
      return;
    }
    Backend closing = backend;
    backend = null;
    try {
      if (observer != null) {
        observer.close();
        observer = null;
      }
    } finally {
      run("close the ZooKeeper server at " + closing.connectString(), closing::close);
    }
  }

  /**
   * Returns the connect string, {@code 127.0.0.1:PORT}.
   *
   * @throws IllegalStateException outside the test class's lifetime
   */
  public String connectString() {
    return started().connectString();
  }

  /**
   * Returns the client port of each server: one for {@link #embedded()}, in order for {@link
   * #ensemble(int)}.
   *
   * @throws IllegalStateException outside the fixture's lifetime
   * @throws UnsupportedOperationException for a container
   */
  public List<Integer> ports() {
    return started().clientPorts();
  }

  /**
   * Returns the client port of a single server.
   *
   * @throws IllegalStateException outside the fixture's lifetime, or for an ensemble
   * @throws UnsupportedOperationException for a container
   */
  public int port() {
    List<Integer> ports = ports();
    if (ports.size() != 1) {
      throw new IllegalStateException("an ensemble has " + ports.size() + " ports: use ports()");
    }
    return ports.get(0);
  }

  /**
   * Returns a started client for assertions, started and closed with the server. It sets no watches
   * (nor does its ensemble tracker, which is off), so that the leak check does not count it.
   *
   * @throws IllegalStateException outside the fixture's lifetime
   */
  public CuratorFramework client() {
    if (observer == null) {
      observer =
          CuratorFrameworkFactory.builder()
              .connectString(connectString())
              .retryPolicy(new RetryOneTime(200))
              .ensembleTracker(false)
              .build();
      observer.start();
    }
    return observer;
  }

  /** Skips this test's leak check, for a test that leaves a session behind on purpose. */
  public void skipLeakCheck() {
    skipLeakCheck = true;
  }

  /**
   * Asserts, waiting up to 10 s (scaled) for sessions that are closing, that no ephemeral node
   * exists and that no running server holds a watch.
   *
   * @throws AssertionError naming what is left
   * @throws UnsupportedOperationException for a container
   */
  public void assertNoLeaks() {
    assertNoLeaks(scaled(LEAK_WAIT));
  }

  /** As {@link #assertNoLeaks()}, waiting at most {@code timeout}. */
  public void assertNoLeaks(Duration timeout) {
    assertNoLeaks(client(), ports(), timeout);
  }

  /**
   * The leak check for servers a test started itself: waits at most {@code timeout} until no
   * ephemeral node exists (as {@code observer} reads the tree) and no server listening on 127.0.0.1
   * at one of {@code clientPorts} holds a watch. {@code observer} must set no watches, and the
   * servers must allow the {@code wchs} four-letter word.
   *
   * @throws AssertionError naming what is left
   */
  public static void assertNoLeaks(
      CuratorFramework observer, List<Integer> clientPorts, Duration timeout) {
    LeakCheck.assertNoLeaks(observer, clientPorts, timeout);
  }

  /**
   * Sends a four-letter word ({@code srvr}, {@code wchs}, ...) to the server on 127.0.0.1:{@code
   * port} and returns its whole answer, or an empty string when the server cannot be reached. The
   * fixture's servers allow every word (it sets {@code zookeeper.4lw.commands.whitelist} to {@code
   * *} before starting them, which also holds for servers started later in this JVM).
   */
  public static String fourLetterWord(int port, String word) {
    return LeakCheck.fourLetterWord(port, word);
  }

  /**
   * Expires a client's session on the server, as when the server stops hearing from it: its
   * ephemeral nodes are deleted at once, and the client learns it on its next contact. (A second
   * handle on the same session is opened and closed, which makes the server end the session.)
   *
   * @throws IllegalStateException if the client has no session, or if the session cannot be
   *     attached to within 10 s (naming it)
   */
  public void expireSession(CuratorFramework client) {
    expire(client);
  }

  /**
   * As {@link #expireSession}, for a client of any server, such as one a test started itself: the
   * second handle connects through the client's own connect string.
   *
   * @throws IllegalStateException if the client has no session, or if the session cannot be
   *     attached to within 10 s (naming it)
   */
  public static void expire(CuratorFramework client) {
    ZooKeeper zk =
        attempt("reach the client's ZooKeeper handle", client.getZookeeperClient()::getZooKeeper);
    long id = zk.getSessionId();
    if (id == 0) {
      throw new IllegalStateException("the client has no session to expire");
    }
    String session = "session 0x" + Long.toHexString(id);
    run(
        "expire " + session,
        () -> {
          CountDownLatch connected = new CountDownLatch(1);
          ZooKeeper twin =
              new ZooKeeper(
                  client.getZookeeperClient().getCurrentConnectionString(),
                  zk.getSessionTimeout(),
                  event -> {
                    if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                      connected.countDown();
                    }
                  },
                  id,
                  zk.getSessionPasswd());
          try {
            if (!connected.await(10, TimeUnit.SECONDS)) {
              throw new IllegalStateException("could not attach to " + session);
            }
          } finally {
            twin.close();
          }
        });
  }

  /**
   * Drops a client's connection; the client reconnects by itself within its session, so it sees
   * SUSPENDED and then RECONNECTED, and keeps its session.
   *
   * @throws IllegalStateException if the connection cannot be dropped
   */
  public void dropConnection(CuratorFramework client) {
    run(
        "drop the connection",
        () -> client.getZookeeperClient().getZooKeeper().getTestable().closeSocket());
  }

  /**
   * Stops the server; clients are disconnected until {@link #restartServer()}.
   *
   * @throws IllegalStateException if it cannot be stopped, naming it
   */
  public void stopServer() {
    Backend b = started();
    run("stop the ZooKeeper server at " + b.connectString(), b::stop);
  }

  /**
   * Restarts a stopped server on the same port, with its data.
   *
   * @throws IllegalStateException if it cannot be restarted, naming it
   */
  public void restartServer() {
    Backend b = started();
    run("restart the ZooKeeper server at " + b.connectString(), b::restart);
  }

  /**
   * Stops one server of an ensemble (0 to size - 1, in the order of {@link #ports()}); the ensemble
   * goes on while a quorum is left.
   *
   * @throws IllegalArgumentException if there is no such server
   * @throws UnsupportedOperationException if this is not an ensemble
   * @throws IllegalStateException if it cannot be stopped
   */
  public void stopServer(int server) {
    run("stop server " + server + " of " + connectString(), () -> started().stop(server));
  }

  /**
   * Restarts one stopped server of an ensemble, with its data.
   *
   * @throws IllegalArgumentException if there is no such server
   * @throws UnsupportedOperationException if this is not an ensemble
   * @throws IllegalStateException if it cannot be restarted
   */
  public void restartServer(int server) {
    run("restart server " + server + " of " + connectString(), () -> started().restart(server));
  }

  /**
   * Stops the server for {@code outage}, then restarts it: sessions shorter than it expire. The
   * server is restarted also when the wait is interrupted.
   *
   * @throws IllegalStateException if the server cannot be stopped or restarted, or if the wait is
   *     interrupted (the interrupt flag is set again)
   */
  public void outage(Duration outage) {
    stopServer();
    try {
      run("wait out an outage of " + outage, () -> Thread.sleep(outage.toMillis()));
    } finally {
      restartServer();
    }
  }

  /** A step of a fault, with the backend's own exceptions. */
  private interface Step<T> {
    T call() throws Exception;
  }

  /** A step without a result. */
  private interface Action {
    void run() throws Exception;
  }

  private static void run(String what, Action action) {
    attempt(
        what,
        () -> {
          action.run();
          return null;
        });
  }

  /**
   * Runs one step: an unchecked exception passes as it is, a checked one becomes an {@link
   * IllegalStateException} saying "could not {@code what}", and an interrupt is kept.
   */
  private static <T> T attempt(String what, Step<T> step) {
    try {
      return step.call();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("could not " + what + ": " + e, e);
    }
  }

  private Backend started() {
    if (backend == null) {
      throw new IllegalStateException(
          "RingworkZooKeeper is not started: register it as a @RegisterExtension field");
    }
    return backend;
  }
}
