package io.ringwork.lock;

/**
 * This member already holds or is acquiring the key: locks are not re-entrant, and a second acquire
 * is refused at once instead of deadlocking on itself or counting silently.
 */
public final class AlreadyHeldException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  AlreadyHeldException(String message) {
    super(message);
  }
}
