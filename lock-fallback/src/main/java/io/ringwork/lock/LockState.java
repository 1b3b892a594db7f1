package io.ringwork.lock;

/** Where a {@link LockHandle} stands. */
public enum LockState {
  /** The request is queued; not held yet. */
  ACQUIRING,
  /** Held: the holder may act, with {@link LockHandle#token()} as its fencing token. */
  HELD,
  /**
   * The connection is suspended: the lock may still be held, but the holder must stop acting until
   * it is HELD again or LOST.
   */
  SUSPENDED,
  /**
   * No longer held: the session ended, or the lock was broken by force. Every later holder's token
   * is larger, so a fenced store turns this holder's writes away.
   */
  LOST,
  /** Released by its holder. */
  RELEASED
}
