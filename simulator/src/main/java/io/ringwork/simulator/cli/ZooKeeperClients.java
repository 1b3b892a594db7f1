package io.ringwork.simulator.cli;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/** The short-lived client of the one-off commands ({@code members}, {@code lookup --connect}). */
public final class ZooKeeperClients {

  private ZooKeeperClients() {}

  /**
   * Returns a started, connected client; the caller closes it.
   *
   * @throws RuntimeFailure if ZooKeeper cannot be reached within 10 s
   */
  public static CuratorFramework connect(String connect) throws InterruptedException {
    return connect(connect, null);
  }

  /**
   * Returns a started, connected client authenticated with digest {@code user:password} (tooz's
   * {@code zookeeper://user:pass@host}), or anonymous when {@code auth} is null.
   *
   * @throws InputException if {@code auth} is not user:password
   * @throws RuntimeFailure if ZooKeeper cannot be reached within 10 s
   */
  public static CuratorFramework connect(String connect, String auth) throws InterruptedException {
    return connect(connect, auth, 10_000, 10_000);
  }

  /**
   * As {@link #connect(String, String)}, waiting {@code waitMs} for ZooKeeper.
   *
   * @throws RuntimeFailure if ZooKeeper cannot be reached within {@code waitMs}
   */
  public static CuratorFramework connect(String connect, String auth, ConnectTimeoutOption wait)
      throws InterruptedException {
    return connect(connect, auth, 10_000, wait.millis());
  }

  /** As {@link #connect(String, String)}, with a session timeout and a connect wait in ms. */
  public static CuratorFramework connect(String connect, String auth, int sessionMs, long waitMs)
      throws InterruptedException {
    CuratorFrameworkFactory.Builder b =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(sessionMs)
            .connectionTimeoutMs((int) Math.min(5_000, waitMs))
            .retryPolicy(new ExponentialBackoffRetry(100, 3));
    if (auth != null) {
      if (!auth.contains(":")) {
        throw new InputException("--auth must be USER:PASSWORD");
      }
      b.authorization("digest", auth.getBytes(StandardCharsets.UTF_8));
    }
    CuratorFramework client = b.build();
    client.start();
    if (!client.blockUntilConnected((int) waitMs, TimeUnit.MILLISECONDS)) {
      client.close();
      throw new RuntimeFailure(
          "could not connect to ZooKeeper at "
              + connect
              + " within "
              + waitMs / 1000.0
              + " s (--connect-timeout)");
    }
    return client;
  }
}
