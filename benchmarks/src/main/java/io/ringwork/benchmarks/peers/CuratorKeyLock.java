package io.ringwork.benchmarks.peers;

import java.util.HashMap;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * Curator's {@code InterProcessMutex}, one per key (created on first use, as a service would keep
 * them), under {@code /curator-locks/<key>}; no token (Curator gives none).
 */
public final class CuratorKeyLock implements KeyLock {

  private final CuratorFramework client;
  private final Map<String, InterProcessMutex> mutexes = new HashMap<>();

  public CuratorKeyLock(String connect) throws InterruptedException {
    client =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(10_000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5))
            .build();
    client.start();
    client.blockUntilConnected();
  }

  @Override
  public long acquire(String key) throws Exception {
    mutexes
        .computeIfAbsent(key, k -> new InterProcessMutex(client, "/curator-locks/" + k))
        .acquire();
    return 0;
  }

  @Override
  public void release(String key) throws Exception {
    mutexes.get(key).release();
  }

  @Override
  public void close() {
    client.close();
  }
}
