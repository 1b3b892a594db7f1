package io.ringwork.simulator;

import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/** The short-lived client of the one-off commands ({@code members}, {@code lookup --connect}). */
final class ZooKeeperClients {

  private ZooKeeperClients() {}

  /**
   * Returns a started, connected client; the caller closes it.
   *
   * @throws RuntimeFailure if ZooKeeper cannot be reached within 10 s
   */
  static CuratorFramework connect(String connect) throws InterruptedException {
    CuratorFramework client =
        CuratorFrameworkFactory.newClient(
            connect, 10_000, 5_000, new ExponentialBackoffRetry(100, 3));
    client.start();
    if (!client.blockUntilConnected(10, TimeUnit.SECONDS)) {
      client.close();
      throw new RuntimeFailure("could not connect to ZooKeeper at " + connect + " within 10 s");
    }
    return client;
  }
}
