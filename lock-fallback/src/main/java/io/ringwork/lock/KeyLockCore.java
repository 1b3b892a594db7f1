package io.ringwork.lock;

import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;

/**
 * What the partition owner's side ({@link PartitionGuards}) uses of the key-lock core, and nothing
 * else: a lock when the fast path is closed, whether a request is this member's own, the session,
 * the event thread, and a watch of a partition's queues. The owner side reads and writes its own
 * nodes (yields) with the Curator client it is given.
 */
interface KeyLockCore {

  /** This member's id. */
  String memberId();

  /** Acquires a lock, as {@link KeyLocks#acquire(LockRequest)}. */
  LockHandle acquire(LockRequest request) throws LockTimeoutException, InterruptedException;

  /** Returns whether a request id is one of this member's own live requests. */
  boolean ownRequest(String requestId);

  /** The id of the client's current session, 0 when there is none. */
  long sessionId();

  /** Runs a task on the lock service's event thread; false when the service is closed. */
  boolean submit(Runnable task);

  /**
   * Runs a task on the event thread after a delay.
   *
   * @throws java.util.concurrent.RejectedExecutionException if the service is closed
   */
  void schedule(Runnable task, long delayMillis);

  /** Runs a callback, logging what it throws. */
  void runGuarded(Runnable call, String what, String key);

  /**
   * Watches every change below {@code path} (persistently, recursively, for as long as the session
   * lasts), set on ZooKeeper's handle: Curator's events drop the zxid a deletion is answered with.
   * The listener runs on the event thread.
   */
  void watchTree(String path, TreeListener listener) throws KeeperException, InterruptedException;

  /** A change below a watched path. */
  @FunctionalInterface
  interface TreeListener {
    /**
     * @param path the changed node without the client's namespace, or null
     * @param zxid the change's zxid, 0 when the event has none
     */
    void changed(String path, Watcher.Event.EventType type, long zxid);
  }
}
