package io.ringwork.lock;

import java.util.List;

/**
 * The holders and waiters of one key, in queue order.
 *
 * @param key the key
 * @param partition its partition
 * @param holders the locks that hold it (or a subtree covering it, listed under their own key)
 * @param waiters the requests that wait for it
 */
public record KeyLockState(
    String key, int partition, List<LockInfo> holders, List<LockInfo> waiters) {

  /** Copies the lists. */
  public KeyLockState {
    holders = List.copyOf(holders);
    waiters = List.copyOf(waiters);
  }
}
