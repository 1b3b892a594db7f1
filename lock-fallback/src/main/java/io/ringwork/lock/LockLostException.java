package io.ringwork.lock;

/** Thrown by {@link LockHandle#ensureValid()} when the lock is not HELD. */
public final class LockLostException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception; public so that other lock implementations (ringwork-tooz's) report a
   * lost lock with the same type.
   *
   * @param message names the lock and why it is not held
   */
  public LockLostException(String message) {
    super(message);
  }
}
