package io.ringwork.benchmarks.peers;

import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * Ringwork's {@code KeyLocks} in a group: in a group without workers (Cinder-style named locks) a
 * lock is the queue protocol alone; in a group whose partitions have a live owner, a foreign lock
 * also waits for the owner's yield.
 */
public final class RingworkKeyLock implements KeyLock {

  private final CuratorFramework client;
  private final KeyLocks locks;
  private final Map<String, LockHandle> held = new HashMap<>();

  public RingworkKeyLock(String connect, String group, String id) throws InterruptedException {
    client =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(10_000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5))
            .build();
    client.start();
    client.blockUntilConnected();
    locks = KeyLocks.newBuilder().client(client).group(group).memberId(id).build();
    locks.start();
  }

  @Override
  public long acquire(String key) throws Exception {
    LockHandle h = locks.acquire(key, LockMode.EXCLUSIVE, Duration.ofMinutes(5));
    held.put(key, h);
    return h.token();
  }

  @Override
  public void release(String key) {
    held.remove(key).release();
  }

  @Override
  public void close() {
    locks.close();
    client.close();
  }
}
