package io.ringwork.membership;

import java.util.concurrent.Callable;

/**
 * ZooKeeper could not be read or written for a group's node (connection loss past the retries, an
 * interrupt, a closed client); names the path. The interrupt flag is kept when interrupted.
 *
 * <p>Ringwork's one-off reads and writes of a group (such as {@code GroupFacts}, the rebalancer's
 * {@code GroupStatus}, {@code GroupInspection}, {@code FleetState} and {@code GroupAdmin}, and the
 * tooz module's {@code ToozLocks.contenders}) throw it, unchecked, for every ZooKeeper failure; a
 * missing group or member is an {@link IllegalArgumentException} instead, which names what was
 * missing. {@link #call(String, Callable)} is the one wrapper they share.
 */
public final class GroupAccessException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  private GroupAccessException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Wraps a failure to access {@code path}; when the cause is an interrupt, sets the current
   * thread's interrupt flag again.
   */
  public static GroupAccessException of(String path, Exception cause) {
    if (cause instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    return new GroupAccessException("could not access " + path + ": " + cause, cause);
  }

  /**
   * Runs one access to {@code path} and returns its result: a {@link RuntimeException} it throws (a
   * missing group's {@link IllegalArgumentException}, an unreadable node's {@link
   * IllegalStateException}, a nested {@code GroupAccessException}) passes as it is, any other
   * exception (ZooKeeper's, an interrupt) is wrapped by {@link #of(String, Exception)}.
   *
   * @throws GroupAccessException if {@code access} throws a checked exception, naming {@code path}
   */
  public static <T> T call(String path, Callable<T> access) {
    try {
      return access.call();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw of(path, e);
    }
  }
}
