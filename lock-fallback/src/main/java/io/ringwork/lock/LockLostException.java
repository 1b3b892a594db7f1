package io.ringwork.lock;

/** Thrown by {@link LockHandle#ensureValid()} when the lock is not HELD. */
public final class LockLostException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  LockLostException(String message) {
    super(message);
  }
}
