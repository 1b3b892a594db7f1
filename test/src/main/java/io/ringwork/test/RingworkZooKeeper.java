package io.ringwork.test;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real ZooKeeper for a service's own tests, one per test class, with the faults a service must
 * survive: a member's session expired by the server, a member's connection dropped, the server
 * stopped and restarted.
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
 * <p>{@link #embedded()} runs the server in this JVM and needs nothing else. {@link
 * #container(String)} runs an official ZooKeeper image through Testcontainers and needs Docker and
 * {@code org.testcontainers:testcontainers} on the test class path; mark such tests with
 * {@code @Testcontainers(disabledWithoutDocker = true)}.
 *
 * <p>No method declares a checked exception: a fault that cannot be made (the server does not stop
 * or restart, a session cannot be reached) throws an {@link IllegalStateException} that names what
 * failed, with the cause attached; an interrupt sets the thread's interrupt flag again and throws
 * the same.
 */
public final class RingworkZooKeeper implements BeforeAllCallback, AfterAllCallback {

  /** Where the server runs. */
  interface Backend extends AutoCloseable {
    /** Starts a backend. */
    interface Factory {
      Backend create() throws Exception;
    }

    String connectString();

    void stop() throws Exception;

    void restart() throws Exception;

    @Override
    void close() throws Exception;
  }

  private final Backend.Factory factory;
  private Backend backend;

  private RingworkZooKeeper(Backend.Factory factory) {
    this.factory = factory;
  }

  /** A server in this JVM (curator-test's {@link TestingServer}, 200 ms tick). */
  public static RingworkZooKeeper embedded() {
    return new RingworkZooKeeper(EmbeddedBackend::new);
  }

  /**
   * A server in a Docker container of {@code image}, for example {@code "zookeeper:3.9"}.
   *
   * @throws NullPointerException if the image is null
   */
  public static RingworkZooKeeper container(String image) {
    Objects.requireNonNull(image, "image");
    return new RingworkZooKeeper(() -> new ContainerBackend(image));
  }

  /**
   * Starts the server before the test class.
   *
   * @throws IllegalStateException if it cannot be started
   */
  @Override
  public void beforeAll(ExtensionContext context) {
    backend = attempt("start the ZooKeeper server", factory::create);
  }

  /**
   * Stops the server and deletes its data after the test class.
   *
   * @throws IllegalStateException if it cannot be closed, naming it
   */
  @Override
  public void afterAll(ExtensionContext context) {
    if (backend != null) {
      Backend closing = backend;
      backend = null;
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
   * Expires a client's session on the server, as when the server stops hearing from it: its
   * ephemeral nodes are deleted at once, and the client learns it on its next contact. (A second
   * handle on the same session is opened and closed, which makes the server end the session.)
   *
   * @throws IllegalStateException if the client has no session, or if the session cannot be
   *     attached to within 10 s (naming it)
   */
  public void expireSession(CuratorFramework client) {
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
                  connectString(),
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
          "RingworkZooKeeper is not started: register it as a static @RegisterExtension field");
    }
    return backend;
  }
}
