package io.ringwork.lock;

/** A lock operation the caller can act on failed: a timeout, an upgrade conflict. */
public class LockException extends Exception {
  private static final long serialVersionUID = 1L;

  LockException(String message) {
    super(message);
  }

  LockException(String message, Throwable cause) {
    super(message, cause);
  }
}
