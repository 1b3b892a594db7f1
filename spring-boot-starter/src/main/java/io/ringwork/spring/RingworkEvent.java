package io.ringwork.spring;

import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.Rebalancer;
import java.util.List;
import java.util.Set;
import org.springframework.context.ApplicationEvent;

/**
 * An ownership change of the application's Ringwork member, published as a Spring application event
 * on the rebalancer's listener thread. Listen with {@code @EventListener} on one of the subclasses.
 * Listeners run synchronously: the handoff waits for {@link Revoked} listeners, up to the revoke
 * deadline, before the partitions' new owners may act.
 */
public abstract sealed class RingworkEvent extends ApplicationEvent {

  private static final long serialVersionUID = 1L;

  private RingworkEvent(Rebalancer source) {
    super(source);
  }

  /** Returns the rebalancer this event is about. */
  public Rebalancer rebalancer() {
    return (Rebalancer) getSource();
  }

  /** Partitions became active for this member: act on them, presenting each grant's token. */
  public static final class Assigned extends RingworkEvent {
    private static final long serialVersionUID = 1L;
    private final transient List<Grant> grants;

    /** An event for {@code grants}. */
    public Assigned(Rebalancer source, List<Grant> grants) {
      super(source);
      this.grants = List.copyOf(grants);
    }

    /** Returns the grants that became active. */
    public List<Grant> grants() {
      return grants;
    }
  }

  /** Partitions are being taken away: finish and stop acting on them before returning. */
  public static final class Revoked extends RingworkEvent {
    private static final long serialVersionUID = 1L;
    private final transient Set<Integer> partitions;

    /** An event for {@code partitions}. */
    public Revoked(Rebalancer source, Set<Integer> partitions) {
      super(source);
      this.partitions = Set.copyOf(partitions);
    }

    /** Returns the partitions being revoked. */
    public Set<Integer> partitions() {
      return partitions;
    }
  }

  /** The session ended and with it these grants: stop acting on them at once. */
  public static final class Lost extends RingworkEvent {
    private static final long serialVersionUID = 1L;
    private final transient Set<Integer> partitions;

    /** An event for {@code partitions}. */
    public Lost(Rebalancer source, Set<Integer> partitions) {
      super(source);
      this.partitions = Set.copyOf(partitions);
    }

    /** Returns the partitions lost. */
    public Set<Integer> partitions() {
      return partitions;
    }
  }

  /**
   * This member became a standby of these partitions ({@code ringwork.replicas} above 1): it may
   * prefetch them read-only; it holds no grant and no token for them.
   */
  public static final class Standby extends RingworkEvent {
    private static final long serialVersionUID = 1L;
    private final transient Set<Integer> partitions;

    /** An event for {@code partitions}. */
    public Standby(Rebalancer source, Set<Integer> partitions) {
      super(source);
      this.partitions = Set.copyOf(partitions);
    }

    /** Returns the partitions this member now stands by for. */
    public Set<Integer> partitions() {
      return partitions;
    }
  }

  /**
   * This member is no longer a standby of these partitions (also when promoted: then {@link
   * Assigned} follows): stop prefetching them.
   */
  public static final class StandbyRevoked extends RingworkEvent {
    private static final long serialVersionUID = 1L;
    private final transient Set<Integer> partitions;

    /** An event for {@code partitions}. */
    public StandbyRevoked(Rebalancer source, Set<Integer> partitions) {
      super(source);
      this.partitions = Set.copyOf(partitions);
    }

    /** Returns the partitions this member no longer stands by for. */
    public Set<Integer> partitions() {
      return partitions;
    }
  }

  /** The connection to ZooKeeper is suspended: every grant is paused. */
  public static final class Suspended extends RingworkEvent {
    private static final long serialVersionUID = 1L;

    /** An event of {@code source}. */
    public Suspended(Rebalancer source) {
      super(source);
    }
  }

  /** The connection came back within the session: paused grants are active again. */
  public static final class Resumed extends RingworkEvent {
    private static final long serialVersionUID = 1L;

    /** An event of {@code source}. */
    public Resumed(Rebalancer source) {
      super(source);
    }
  }
}
