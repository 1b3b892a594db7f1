package io.ringwork.benchmarks.peers;

/**
 * One client's per-key exclusive lock, as the lock benchmarks see it: Ringwork's {@code KeyLocks}
 * or Curator's {@code InterProcessMutex}, each with its own ZooKeeper session.
 */
public interface KeyLock extends AutoCloseable {

  /** Acquires the key exclusively, waiting as long as it takes; returns a token or 0. */
  long acquire(String key) throws Exception;

  /** Releases the key this client holds. */
  void release(String key) throws Exception;

  @Override
  void close();
}
