package io.ringwork.membership;

import java.time.Duration;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * The connection settings every Ringwork entry point ({@link Membership}, the rebalancer's builder,
 * {@code RingworkClient}) uses when none is given, and the Curator client they make for themselves:
 * defined once, here.
 */
public final class ConnectionDefaults {

  /** The namespace under which groups live when none is given. */
  public static final String NAMESPACE = "/ringwork";

  /** The session timeout of a client Ringwork makes itself, when none is given. */
  public static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);

  private ConnectionDefaults() {}

  /** The session timeout in use: {@code timeout}, or {@link #SESSION_TIMEOUT} when null. */
  public static Duration sessionTimeout(Duration timeout) {
    return timeout == null ? SESSION_TIMEOUT : timeout;
  }

  /**
   * How long to wait for the first connection: {@code timeout}, or twice the session timeout when
   * null.
   */
  public static Duration connectTimeout(Duration timeout, Duration sessionTimeout) {
    return timeout != null ? timeout : sessionTimeout.multipliedBy(2);
  }

  /** The namespace in use: {@code namespace}, or {@link #NAMESPACE} when null. */
  public static String namespace(String namespace) {
    return namespace == null ? NAMESPACE : namespace;
  }

  /**
   * Returns the builder of a Curator client as Ringwork makes one for itself: the session timeout
   * asked for, a connection timeout of half of it (at least a second), and exponential retries (100
   * ms doubling up to 2 s, 10 times).
   */
  public static CuratorFrameworkFactory.Builder newClientBuilder(
      String connectString, Duration sessionTimeout) {
    int timeout = (int) sessionTimeout.toMillis();
    return CuratorFrameworkFactory.builder()
        .connectString(connectString)
        .sessionTimeoutMs(timeout)
        .connectionTimeoutMs(Math.max(1000, timeout / 2))
        .retryPolicy(new ExponentialBackoffRetry(100, 10, 2000));
  }
}
