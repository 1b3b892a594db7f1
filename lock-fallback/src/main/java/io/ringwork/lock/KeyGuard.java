package io.ringwork.lock;

/**
 * The right to act on one key for the length of a try-with-resources block, from {@link
 * PartitionGuards#guard}: either the partition owner's fast path (no ZooKeeper request; the token
 * is the partition grant's, or higher after a foreign lock on the key) or a lock.
 */
public final class KeyGuard implements AutoCloseable {

  private final PartitionGuards guards;
  private final String key;
  private final int partition;
  private final int slot;
  private final long token;
  private final LockHandle handle;
  private final long session;
  private boolean closed;

  KeyGuard(
      PartitionGuards guards,
      String key,
      int partition,
      int slot,
      long token,
      LockHandle handle,
      long session) {
    this.guards = guards;
    this.key = key;
    this.partition = partition;
    this.slot = slot;
    this.token = token;
    this.handle = handle;
    this.session = session;
  }

  /** Returns the key. */
  public String key() {
    return key;
  }

  /** Returns the key's partition. */
  public int partition() {
    return partition;
  }

  /** Returns the fencing token to write with. */
  public long token() {
    return token;
  }

  /** Returns whether this guard is the owner's fast path (no lock node). */
  public boolean fastPath() {
    return handle == null;
  }

  /** Returns the lock behind a guard that is not on the fast path, or null. */
  public LockHandle lock() {
    return handle;
  }

  /**
   * Throws when acting is no longer safe: the partition was revoked or paused (fast path), or the
   * lock is not HELD.
   *
   * @throws LockLostException naming the key
   */
  public void ensureValid() {
    if (handle != null) {
      handle.ensureValid();
    } else if (closed || !guards.stillOwned(partition, token, session)) {
      throw new LockLostException(
          "guard on "
              + LockKeys.shown(key)
              + " is no longer valid: partition "
              + partition
              + (closed
                  ? " guard closed"
                  : " is no longer actively owned, or the session lease has ended"));
    }
  }

  /** Returns whether acting under this guard is still safe ({@link #ensureValid()} would pass). */
  public boolean isValid() {
    if (handle != null) {
      return handle.state() == LockState.HELD;
    }
    return !closed && guards.stillOwned(partition, token, session);
  }

  /**
   * Returns the nanoseconds this guard stays valid unless its partition or lock is lost sooner: the
   * session lease left (see {@code SessionLease}). Work that takes longer should check it before it
   * commits, and write with {@link #token()}.
   */
  public long remainingNanos() {
    if (handle != null) {
      return handle.remainingNanos();
    }
    return closed || !guards.stillOwned(partition, token, session)
        ? 0
        : guards.remainingNanos(session);
  }

  /**
   * Ends the guard; the owner may now yield the key. Idempotent for its thread; a guard is closed
   * by the thread that uses it (its try-with-resources block), not handed to another.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (handle != null) {
      handle.release();
    } else {
      guards.exit(slot);
    }
  }
}
