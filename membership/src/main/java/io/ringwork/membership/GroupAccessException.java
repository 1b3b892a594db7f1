package io.ringwork.membership;

/**
 * ZooKeeper could not be read or written for a group's node (connection loss past the retries, an
 * interrupt, a closed client); names the path. The interrupt flag is kept when interrupted.
 */
public final class GroupAccessException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  private GroupAccessException(String message, Throwable cause) {
    super(message, cause);
  }

  static GroupAccessException of(String path, Exception cause) {
    if (cause instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    return new GroupAccessException("could not access " + path + ": " + cause, cause);
  }
}
