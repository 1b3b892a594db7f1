package io.ringwork.membership.internal;

import io.ringwork.membership.ConnectionDefaults;
import io.ringwork.membership.EmbeddedZooKeeper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.apache.curator.framework.CuratorFramework;

/**
 * The connection settings of one builder (the membership's, the rebalancer's, {@code
 * RingworkClient}'s): where ZooKeeper is (the caller's Curator client, a connect string, or an
 * embedded server), the session timeout of a client made here and how long to wait for the first
 * connection. Each builder's connection setters delegate here, so that they validate, refuse being
 * set twice and default ({@link ConnectionDefaults}) in one place. For Ringwork's modules, not an
 * API.
 *
 * <p>Setters validate at once and throw {@link IllegalStateException} when set twice (the three
 * sources count as one setting, "the ZooKeeper source"); getters return what is in use, defaults
 * included.
 */
public final class ConnectionSettings {

  private CuratorFramework curator;
  private String connectString;
  private boolean embedded;
  private Path embeddedDataDir;
  private int embeddedPort;
  private Duration sessionTimeout;
  private Duration connectTimeout;

  /** Settings with nothing set. */
  public ConnectionSettings() {}

  /**
   * Uses the caller's Curator client.
   *
   * @throws IllegalStateException if a ZooKeeper source was already set
   */
  public void curator(CuratorFramework client) {
    requireNoSource();
    this.curator = Objects.requireNonNull(client, "curator");
  }

  /**
   * Connects to an ensemble, for example {@code "zk1:2181,zk2:2181"}.
   *
   * @throws IllegalArgumentException if it is blank
   * @throws IllegalStateException if a ZooKeeper source was already set
   */
  public void connectString(String hosts) {
    requireNoSource();
    Objects.requireNonNull(hosts, "connectString");
    if (hosts.isBlank()) {
      throw new IllegalArgumentException("connectString must not be empty");
    }
    this.connectString = hosts;
  }

  /**
   * Runs an embedded server on 127.0.0.1 at {@code port} (0: a free one) with data in {@code
   * dataDir} (null: a temporary one).
   *
   * @throws IllegalArgumentException if the port is not between 0 and 65535
   * @throws IllegalStateException if a ZooKeeper source was already set
   */
  public void embedded(Path dataDir, int port) {
    requireNoSource();
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
    }
    this.embedded = true;
    this.embeddedDataDir = dataDir;
    this.embeddedPort = port;
  }

  /**
   * Sets the session timeout of a client made here.
   *
   * @throws IllegalArgumentException if it is not positive
   * @throws IllegalStateException if it was already set
   */
  public void sessionTimeout(Duration timeout) {
    Require.unset(sessionTimeout == null, "sessionTimeout");
    this.sessionTimeout = Require.positive(timeout, "sessionTimeout");
  }

  /**
   * Sets how long a start waits for the first connection.
   *
   * @throws IllegalArgumentException if it is not positive
   * @throws IllegalStateException if it was already set
   */
  public void connectTimeout(Duration timeout) {
    Require.unset(connectTimeout == null, "connectTimeout");
    this.connectTimeout = Require.positive(timeout, "connectTimeout");
  }

  /** Whether a ZooKeeper source (client, connect string or embedded server) is set. */
  public boolean hasSource() {
    return curator != null || connectString != null || embedded;
  }

  /** The caller's client, or null. */
  public CuratorFramework curator() {
    return curator;
  }

  /** The connect string set, or null. */
  public String connectString() {
    return connectString;
  }

  /** Whether to run an embedded server. */
  public boolean embedded() {
    return embedded;
  }

  /** The embedded server's data directory, or null for a temporary one. */
  public Path embeddedDataDir() {
    return embeddedDataDir;
  }

  /** The embedded server's port, 0 for a free one. */
  public int embeddedPort() {
    return embeddedPort;
  }

  /** Whether a session timeout was set (it applies only to a client made here). */
  public boolean sessionTimeoutSet() {
    return sessionTimeout != null;
  }

  /** The session timeout in use: the one set, or {@link ConnectionDefaults#SESSION_TIMEOUT}. */
  public Duration sessionTimeout() {
    return ConnectionDefaults.sessionTimeout(sessionTimeout);
  }

  /** How long to wait for the first connection: the one set, or twice the session timeout. */
  public Duration connectTimeout() {
    return ConnectionDefaults.connectTimeout(connectTimeout, sessionTimeout());
  }

  /** Starts the embedded server asked for, or returns null when none is. */
  public EmbeddedZooKeeper startEmbedded() {
    return embedded ? EmbeddedZooKeeper.start(embeddedDataDir, embeddedPort) : null;
  }

  /**
   * Makes (does not start) a Curator client as Ringwork makes one for itself ({@link
   * ConnectionDefaults#newClientBuilder}), to {@code server} when it is not null, else to the
   * connect string.
   */
  public CuratorFramework newClient(EmbeddedZooKeeper server) {
    String hosts = server != null ? server.connectString() : connectString;
    return ConnectionDefaults.newClientBuilder(hosts, sessionTimeout()).build();
  }

  private void requireNoSource() {
    Require.unset(!hasSource(), "the ZooKeeper source");
  }
}
