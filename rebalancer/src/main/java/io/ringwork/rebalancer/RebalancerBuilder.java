package io.ringwork.rebalancer;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.membership.ConnectionDefaults;
import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.internal.ConnectionSettings;
import io.ringwork.membership.internal.Require;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Placement;
import io.ringwork.ring.Strategy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;

/**
 * Builds a {@link Rebalancer}. Each setter validates its argument at once and may be called only
 * once; {@link #build()} checks the combination.
 */
public final class RebalancerBuilder {

  /** How long {@code onRevoked} may take before the handoff goes on without it. */
  public static final Duration DEFAULT_REVOKE_DEADLINE = Duration.ofSeconds(5);

  /** How long membership must be quiet before a new assignment is computed. */
  public static final Duration DEFAULT_SETTLE_DELAY = Duration.ofMillis(100);

  /** The ZooKeeper session timeout when the rebalancer makes its own client. */
  public static final Duration DEFAULT_SESSION_TIMEOUT = ConnectionDefaults.SESSION_TIMEOUT;

  /** The namespace under which groups live. */
  public static final String DEFAULT_NAMESPACE = ConnectionDefaults.NAMESPACE;

  /** The restart grace when none is set: off, a member's partitions move as soon as it is gone. */
  public static final Duration DEFAULT_RESTART_GRACE = Duration.ZERO;

  private String group;
  private Member member;
  private final ConnectionSettings connection = new ConnectionSettings();
  private String namespace;
  private Strategy strategy;
  private int toozPoints = -1;
  private int partitions = -1;
  private int replicas = -1;
  private KeyRouter router;
  private int maxMovesPerStep = -1;
  private Duration revokeDeadline;
  private Duration settleDelay;
  private MetricRegistry metrics;
  private LongSupplier nanoTime;
  private OwnershipListener listener;
  private RingworkClient ringOf;
  private Duration restartGrace;

  RebalancerBuilder() {}

  /** A ring of {@code owner}: on its client and session, closed with it. */
  RebalancerBuilder ringOf(RingworkClient owner) {
    curator(owner.curator());
    this.ringOf = owner;
    return this;
  }

  /**
   * Sets the group name: one ring per group.
   *
   * @throws IllegalArgumentException if it is empty or has a '/' or control character
   */
  public RebalancerBuilder group(String name) {
    Require.unset(group == null, "group");
    this.group = io.ringwork.membership.Membership.checkGroup(name);
    return this;
  }

  /** Sets this member: its id, weight, zone and labels. */
  public RebalancerBuilder member(Member self) {
    Require.unset(member == null, "member");
    this.member = Objects.requireNonNull(self, "member");
    return this;
  }

  /** Uses the embedding service's started Curator client; the rebalancer does not close it. */
  public RebalancerBuilder curator(CuratorFramework curator) {
    connection.curator(curator);
    return this;
  }

  /**
   * Connects to a ZooKeeper ensemble, for example {@code "zk1:2181,zk2:2181,zk3:2181"}.
   *
   * @throws IllegalArgumentException if it is empty
   */
  public RebalancerBuilder connectString(String hosts) {
    connection.connectString(hosts);
    return this;
  }

  /** Runs an embedded ZooKeeper server on 127.0.0.1 in {@code dataDir} (null: a temporary one). */
  public RebalancerBuilder embedded(Path dataDir) {
    return embedded(dataDir, 0);
  }

  /**
   * Runs an embedded ZooKeeper server on 127.0.0.1 at {@code port} (0: a free one) in {@code
   * dataDir} (null: a temporary one), so that other members can join it.
   *
   * @throws IllegalArgumentException if the port is not between 0 and 65535
   */
  public RebalancerBuilder embedded(Path dataDir, int port) {
    connection.embedded(dataDir, port);
    return this;
  }

  /**
   * Sets the session timeout of a client the rebalancer makes itself.
   *
   * @throws IllegalArgumentException if it is not positive
   */
  public RebalancerBuilder sessionTimeout(Duration timeout) {
    connection.sessionTimeout(timeout);
    return this;
  }

  /** Sets the namespace under which groups live; {@value #DEFAULT_NAMESPACE} by default. */
  public RebalancerBuilder namespace(String path) {
    Require.unset(namespace == null, "namespace");
    this.namespace = io.ringwork.membership.Membership.checkNamespace(path);
    return this;
  }

  /**
   * Sets the strategy: {@link Strategy#BALANCED} (coordinated, the default), {@link
   * Strategy#RENDEZVOUS} (every worker computes the table) or {@link Strategy#TOOZ} (key for key
   * what tooz's Partitioner gives).
   */
  public RebalancerBuilder strategy(Strategy chosen) {
    Require.unset(strategy == null, "strategy");
    this.strategy = Objects.requireNonNull(chosen, "strategy");
    return this;
  }

  /**
   * Sets the strategy by name, ignoring case: {@code balanced}, {@code rendezvous} or {@code tooz}.
   *
   * @throws IllegalArgumentException for an unknown strategy
   */
  public RebalancerBuilder strategy(String name) {
    return strategy(Strategy.parse(name));
  }

  /**
   * Sets how long {@link Rebalancer#start()} waits for a first connection; twice the session
   * timeout by default.
   *
   * @throws IllegalArgumentException if it is not positive
   */
  public RebalancerBuilder connectTimeout(Duration timeout) {
    connection.connectTimeout(timeout);
    return this;
  }

  /**
   * Sets tooz's points per member (tooz's {@code partitions} argument), {@value
   * Placement.Builder#DEFAULT_TOOZ_POINTS} by default; only for {@link Strategy#TOOZ}.
   *
   * @throws IllegalArgumentException if it is less than 1
   */
  public RebalancerBuilder toozPoints(int points) {
    Require.unset(toozPoints < 0, "toozPoints");
    if (points < 1) {
      throw new IllegalArgumentException("toozPoints must be at least 1, got " + points);
    }
    this.toozPoints = points;
    return this;
  }

  /**
   * Sets P, a power of two, 4096 by default; not for {@link Strategy#TOOZ}, which has {@link
   * #toozPoints(int)} instead.
   *
   * @throws IllegalArgumentException if it is less than 1 (build() also checks the power of two)
   */
  public RebalancerBuilder partitions(int count) {
    Require.unset(partitions < 0, "partitions");
    if (count < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + count);
    }
    this.partitions = count;
    return this;
  }

  /** Sets the owners per partition (primary plus standbys); 1 by default. */
  public RebalancerBuilder replicas(int count) {
    Require.unset(replicas < 0, "replicas");
    if (count < 1) {
      throw new IllegalArgumentException("replicas must be at least 1, got " + count);
    }
    this.replicas = count;
    return this;
  }

  /** Sets the key router; the whole key by default. */
  public RebalancerBuilder router(KeyRouter keyRouter) {
    Require.unset(router == null, "router");
    this.router = Objects.requireNonNull(keyRouter, "router");
    return this;
  }

  /** Limits surplus moves per step (balanced only); departed members' partitions always move. */
  public RebalancerBuilder maxMovesPerStep(int max) {
    Require.unset(maxMovesPerStep < 0, "maxMovesPerStep");
    if (max < 1) {
      throw new IllegalArgumentException("maxMovesPerStep must be at least 1, got " + max);
    }
    this.maxMovesPerStep = max;
    return this;
  }

  /** Sets how long {@code onRevoked} may take; {@link #DEFAULT_REVOKE_DEADLINE} by default. */
  public RebalancerBuilder revokeDeadline(Duration deadline) {
    Require.unset(revokeDeadline == null, "revokeDeadline");
    this.revokeDeadline = Require.positive(deadline, "revokeDeadline");
    return this;
  }

  /**
   * Sets the join window, the debounce of membership changes ({@link #DEFAULT_SETTLE_DELAY} by
   * default): changes closer together than {@code delay} make one rebalance, which starts when they
   * have stopped for {@code delay}, but at the latest ten delays after the first of them, so that
   * changes which never stop (a rolling restart, a flapping member) cannot hold a rebalance back
   * for ever.
   */
  public RebalancerBuilder settleDelay(Duration delay) {
    Require.unset(settleDelay == null, "settleDelay");
    Objects.requireNonNull(delay, "settleDelay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("settleDelay must not be negative, got " + delay);
    }
    this.settleDelay = delay;
    return this;
  }

  /** Sets the registry that receives metrics under {@code ringwork.<group>.}. */
  public RebalancerBuilder metrics(MetricRegistry registry) {
    Require.unset(metrics == null, "metrics");
    this.metrics = Objects.requireNonNull(registry, "metrics");
    return this;
  }

  /**
   * Sets the monotonic clock, in nanoseconds, used for timings and for the bound of the join window
   * (see {@link #settleDelay}); {@link System#nanoTime()} by default. The event loop's timers keep
   * the system clock, so a clock that stands still removes the bound: for tests that simulate time.
   */
  public RebalancerBuilder nanoTime(LongSupplier clock) {
    Require.unset(nanoTime == null, "nanoTime");
    this.nanoTime = Objects.requireNonNull(clock, "nanoTime");
    return this;
  }

  /** Sets the listener told of grants, revocations and connection changes. */
  public RebalancerBuilder listener(OwnershipListener ownershipListener) {
    Require.unset(listener == null, "listener");
    this.listener = Objects.requireNonNull(ownershipListener, "listener");
    return this;
  }

  /**
   * Sets the restart grace: how long this member's partitions stay reserved for it once it has left
   * with {@link Rebalancer#closeForRestart()} or its session has ended without a drain. While the
   * grace lasts nobody runs them (they are revoked and acknowledged as on any leave) and nobody
   * else is given them; the same id back within the grace gets exactly them again, with higher
   * tokens, through the usual barrier. {@link Rebalancer#drain(Duration)} and {@link
   * Rebalancer#close()} still move them at once. {@link #DEFAULT_RESTART_GRACE} (off) by default.
   *
   * @throws IllegalArgumentException if it is negative
   * @throws IllegalStateException if it was already set
   */
  public RebalancerBuilder restartGrace(Duration grace) {
    Require.unset(restartGrace == null, "restartGrace");
    Objects.requireNonNull(grace, "restartGrace");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("restartGrace must not be negative, got " + grace);
    }
    this.restartGrace = grace;
    return this;
  }

  /**
   * Builds the rebalancer; call {@link Rebalancer#start()} to join.
   *
   * @throws IllegalStateException if the group, member or ZooKeeper source is missing
   * @throws IllegalArgumentException if {@code maxMovesPerStep} is set for rendezvous
   * @throws IllegalStateException for a ring of a {@link RingworkClient} that is closed or already
   *     has an open ring in this group
   */
  public Rebalancer build() {
    if (group == null) {
      throw new IllegalStateException("group is required");
    }
    if (member == null) {
      throw new IllegalStateException("member is required");
    }
    if (!connection.hasSource()) {
      throw new IllegalStateException(
          "a ZooKeeper source is required: curator(...), connectString(...) or embedded(...)");
    }
    if (isTooz()) {
      if (maxMovesPerStep > 0) {
        throw new IllegalArgumentException("maxMovesPerStep applies to the balanced strategy only");
      }
      if (router != null) {
        throw new IllegalArgumentException("a key router does not apply to the tooz strategy");
      }
      if (partitions > 0) {
        throw new IllegalArgumentException(
            "partitions does not apply to the tooz strategy; set toozPoints (points per member)");
      }
    } else {
      if (toozPoints > 0) {
        throw new IllegalArgumentException("toozPoints applies to the tooz strategy only");
      }
      if (partitions > 0) {
        io.ringwork.ring.Partitioner.checkPartitions(partitions);
      }
      placement();
    }
    if (ringOf != null) {
      String groupPath = GroupPaths.of(namespace(), group).root();
      return ringOf.adopt(groupPath, () -> new Rebalancer(this, MembershipSession.create(this)));
    }
    return new Rebalancer(this, MembershipSession.create(this));
  }

  boolean isTooz() {
    return strategy == Strategy.TOOZ;
  }

  Strategy strategyOrDefault() {
    return strategy == null ? Strategy.BALANCED : strategy;
  }

  /** The tooz points per node. */
  int toozPoints() {
    return toozPoints < 0 ? Placement.Builder.DEFAULT_TOOZ_POINTS : toozPoints;
  }

  Duration connectTimeout() {
    return connection.connectTimeout();
  }

  int replicaCount() {
    return replicas < 0 ? 1 : replicas;
  }

  PartitionPlacement placement() {
    if (isTooz()) {
      return null;
    }
    Placement.Builder b =
        Placement.newBuilder()
            .strategy(strategyOrDefault())
            .partitions(partitions < 0 ? Placement.Builder.DEFAULT_PARTITIONS : partitions)
            .replicas(replicas < 0 ? 1 : replicas);
    if (router != null) {
      b.router(router);
    }
    if (maxMovesPerStep > 0) {
      b.maxMovesPerStep(maxMovesPerStep);
    }
    return b.buildPartitioned();
  }

  String group() {
    return group;
  }

  KeyRouter routerOrDefault() {
    return router == null ? KeyRouter.wholeKey() : router;
  }

  Member member() {
    return member;
  }

  /** The connection settings: where ZooKeeper is, and the timeouts. */
  ConnectionSettings connection() {
    return connection;
  }

  Duration sessionTimeout() {
    return connection.sessionTimeout();
  }

  String namespace() {
    return ConnectionDefaults.namespace(namespace);
  }

  Duration revokeDeadline() {
    return revokeDeadline == null ? DEFAULT_REVOKE_DEADLINE : revokeDeadline;
  }

  Duration settleDelay() {
    return settleDelay == null ? DEFAULT_SETTLE_DELAY : settleDelay;
  }

  MetricRegistry metrics() {
    return metrics == null ? new MetricRegistry() : metrics;
  }

  LongSupplier nanoTime() {
    return nanoTime == null ? System::nanoTime : nanoTime;
  }

  OwnershipListener listener() {
    return listener == null ? new OwnershipListener() {} : listener;
  }

  Duration restartGrace() {
    return restartGrace == null ? DEFAULT_RESTART_GRACE : restartGrace;
  }
}
