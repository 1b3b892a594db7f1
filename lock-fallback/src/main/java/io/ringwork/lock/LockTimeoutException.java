package io.ringwork.lock;

/**
 * A lock was not granted within its timeout. The request's node is gone; the message names what it
 * waited for: the holder ahead of it, or the partition owner that had not yielded the key.
 */
public final class LockTimeoutException extends LockException {
  private static final long serialVersionUID = 1L;

  private final String blocker;

  /**
   * Creates the exception; public so that other lock implementations (ringwork-tooz's) report a
   * timeout with the same type.
   *
   * @param message what was not granted, and within what time
   * @param blocker what the request waited for (see {@link #blocker()})
   */
  public LockTimeoutException(String message, String blocker) {
    super(message);
    this.blocker = blocker;
  }

  /**
   * Returns what the request waited for: {@code "holder <member> (<mode>, token T, since ...)"} or
   * {@code "owner <member> busy since ..."}.
   */
  public String blocker() {
    return blocker;
  }
}
