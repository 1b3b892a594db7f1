package io.ringwork.rebalancer.internal;

import io.ringwork.rebalancer.Rebalancer;
import java.util.Objects;
import org.apache.curator.framework.CuratorFramework;

/**
 * The way Ringwork's own modules reach a {@link Rebalancer}'s Curator client (for its connection
 * state, its session id, or a test that expires its session). Not API (see the package).
 *
 * <p>The rebalancer installs the implementation when {@link Rebalancer} is initialised (the JDK's
 * "shared secrets" pattern, as the lock module's {@code OwnerSide}), so that the client needs no
 * public method on {@link Rebalancer}.
 */
public final class RebalancerInternals {

  /** What the rebalancer provides. */
  public interface Access {
    /** See {@link RebalancerInternals#curator}. */
    CuratorFramework curator(Rebalancer rebalancer);
  }

  private static volatile Access access;

  private RebalancerInternals() {}

  /**
   * Installs the rebalancer's implementation; called once, by {@link Rebalancer}.
   *
   * @throws IllegalStateException if one is installed already
   */
  public static synchronized void install(Access implementation) {
    if (access != null) {
      throw new IllegalStateException("the rebalancer's access is installed already");
    }
    access = Objects.requireNonNull(implementation, "implementation");
  }

  /**
   * Returns the Curator client {@code rebalancer} uses (its own or the one it was given); do not
   * close it or write through it.
   */
  public static CuratorFramework curator(Rebalancer rebalancer) {
    return access().curator(Objects.requireNonNull(rebalancer, "rebalancer"));
  }

  private static Access access() {
    Access a = access;
    if (a == null) {
      try {
        // Initialises Rebalancer, which installs the implementation.
        Class.forName(Rebalancer.class.getName(), true, Rebalancer.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("the rebalancer is not on the class path", e);
      }
      a = access;
    }
    return a;
  }
}
