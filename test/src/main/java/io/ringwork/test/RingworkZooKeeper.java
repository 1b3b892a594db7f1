package io.ringwork.test;

import java.io.IOException;
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

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    backend = factory.create();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (backend != null) {
      backend.close();
      backend = null;
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
   * @throws IllegalStateException if the client has no session
   */
  public void expireSession(CuratorFramework client) throws Exception {
    ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
    long id = zk.getSessionId();
    if (id == 0) {
      throw new IllegalStateException("the client has no session to expire");
    }
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
        throw new IllegalStateException("could not attach to session 0x" + Long.toHexString(id));
      }
    } finally {
      twin.close();
    }
  }

  /**
   * Drops a client's connection; the client reconnects by itself within its session, so it sees
   * SUSPENDED and then RECONNECTED, and keeps its session.
   */
  public void dropConnection(CuratorFramework client) throws IOException {
    try {
      client.getZookeeperClient().getZooKeeper().getTestable().closeSocket();
    } catch (Exception e) {
      throw new IOException("could not drop the connection: " + e.getMessage(), e);
    }
  }

  /** Stops the server; clients are disconnected until {@link #restartServer()}. */
  public void stopServer() throws Exception {
    started().stop();
  }

  /** Restarts a stopped server on the same port, with its data. */
  public void restartServer() throws Exception {
    started().restart();
  }

  /** Stops the server for {@code outage}, then restarts it: sessions shorter than it expire. */
  public void outage(Duration outage) throws Exception {
    stopServer();
    Thread.sleep(outage.toMillis()); // the length of the fault itself
    restartServer();
  }

  private Backend started() {
    if (backend == null) {
      throw new IllegalStateException(
          "RingworkZooKeeper is not started: register it as a static @RegisterExtension field");
    }
    return backend;
  }
}
