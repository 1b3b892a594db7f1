package io.ringwork.lock.internal;

import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.PartitionGuards;
import java.time.Duration;
import java.util.Objects;

/**
 * The rebalancer's handle on the lock module's owner side: it makes a member's {@link
 * PartitionGuards} and feeds them the member's active grants. Not API (see the package).
 *
 * <p>The lock module installs the implementation when {@link KeyLocks} is initialised (the JDK's
 * "shared secrets" pattern), so that these calls need no public method on the lock module's own
 * types.
 */
public final class OwnerSide {

  /** What the lock module provides. */
  public interface Access {
    /** See {@link OwnerSide#partitionGuards}. */
    PartitionGuards partitionGuards(KeyLocks locks);

    /** See {@link OwnerSide#update}. */
    boolean update(
        PartitionGuards guards,
        long[] tokens,
        boolean connected,
        long sessionId,
        Duration drainTimeout);
  }

  private static volatile Access access;

  private OwnerSide() {}

  /**
   * Installs the lock module's implementation; called once, by {@link KeyLocks}.
   *
   * @throws IllegalStateException if one is installed already
   */
  public static synchronized void install(Access implementation) {
    if (access != null) {
      throw new IllegalStateException("the owner side's access is installed already");
    }
    access = Objects.requireNonNull(implementation, "implementation");
  }

  /**
   * Returns the owner side of a started lock service, for a member that owns partitions: its fast
   * path and its yields. Made once per service.
   *
   * @throws IllegalStateException if the service is not started, or was asked already
   */
  public static PartitionGuards partitionGuards(KeyLocks locks) {
    return access().partitionGuards(locks);
  }

  /**
   * Takes the active grants: partitions with a non-zero token are this member's. Newly granted
   * partitions get the fast path once their locks are listed; partitions no longer granted lose it
   * at once, and this call waits (up to {@code drainTimeout}) for their fast guards in flight.
   *
   * @param tokens the active token per partition, 0 where none (an empty array: none at all)
   * @param connected whether the session is connected (grants are paused otherwise)
   * @param sessionId the session the grants belong to
   * @return whether every fast guard in flight closed in time, when a grant was withdrawn
   * @throws IllegalArgumentException if {@code tokens} covers another number of partitions
   */
  public static boolean update(
      PartitionGuards guards,
      long[] tokens,
      boolean connected,
      long sessionId,
      Duration drainTimeout) {
    return access().update(guards, tokens, connected, sessionId, drainTimeout);
  }

  private static Access access() {
    Access a = access;
    if (a == null) {
      try {
        // Initialises KeyLocks, which installs the implementation.
        Class.forName(KeyLocks.class.getName(), true, KeyLocks.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("the lock module is not on the class path", e);
      }
      a = access;
    }
    return a;
  }
}
