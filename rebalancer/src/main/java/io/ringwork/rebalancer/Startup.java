package io.ringwork.rebalancer;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.PartitionGuards;
import io.ringwork.lock.internal.OwnerSide;
import io.ringwork.membership.GroupConfig;
import io.ringwork.membership.GroupFacts;
import io.ringwork.membership.SessionLease;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Strategy;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@link Rebalancer} starts, in order: connect; take the session lease; clamp the revoke
 * deadline to the negotiated session; check the group's stored settings (or store them); start the
 * lock service and hand its owner side to the driver; start the handoff, the operators' controls
 * and the mode; and last join through the membership session, whose first view sets the handoff
 * going. A step that throws leaves what has started to the rebalancer's close.
 */
final class Startup {

  // Under the facade's name, which is what users configure.
  private static final Logger log = LoggerFactory.getLogger(Rebalancer.class);

  private final GroupSession session;
  private final HandoffDriver driver;
  private final String selfId;
  private final String group;
  private final String namespace;
  private final KeyRouter router;
  private final MetricRegistry registry;
  private final Runnable leaseBegins;

  /** {@code leaseBegins} runs whenever a lease begins (it may make this member stable). */
  Startup(
      RebalancerBuilder b,
      MetricRegistry registry,
      GroupSession session,
      HandoffDriver driver,
      Runnable leaseBegins) {
    this.session = session;
    this.driver = driver;
    this.selfId = session.selfId();
    this.group = b.group();
    this.namespace = b.namespace();
    this.router = b.routerOrDefault();
    this.registry = registry;
    this.leaseBegins = leaseBegins;
  }

  /**
   * Runs every step; {@code locksStarted} is given the lock service as soon as it has started, so
   * that a later step that fails still leaves it to be closed.
   */
  void run(Consumer<KeyLocks> locksStarted) throws Exception {
    session.connect();
    SessionLease lease = SessionLease.acquire(session.client());
    driver.lease = lease;
    lease.onLeaseBegins(leaseBegins);
    checkRevokeDeadline();
    GroupFacts.of(session.client(), session.paths())
        .ensureConfig(
            GroupConfig.of(
                driver.mode.strategy().configName(),
                driver.mode.partitions(),
                driver.mode.replicas(),
                router));
    KeyLocks.Builder lb =
        KeyLocks.newBuilder()
            .client(session.client())
            .namespace(namespace)
            .group(group)
            .memberId(selfId)
            .router(router)
            .metrics(registry)
            .incarnation(session::incarnation);
    if (driver.mode.strategy() != Strategy.TOOZ) {
      lb.partitions(driver.mode.partitions());
    }
    KeyLocks keyLocks = lb.build();
    keyLocks.start();
    locksStarted.accept(keyLocks);
    PartitionGuards guards = OwnerSide.partitionGuards(keyLocks);
    driver.guards = guards;
    guards.onReady(driver::recheckState);
    driver.handoff.start();
    driver.fleet.start();
    driver.mode.start();
    session.start(driver.sessionEvents());
  }

  /**
   * Clamps the revoke deadline to half the session timeout the server negotiated: {@code onRevoked}
   * runs while the event thread waits for it, and a deadline near the session timeout would let the
   * member's events (a suspension, a loss) wait behind it for most of a session. The session lease
   * keeps grants safe either way; this keeps the member responsive.
   */
  private void checkRevokeDeadline() {
    long negotiated;
    try {
      negotiated = session.client().getZookeeperClient().getZooKeeper().getSessionTimeout();
    } catch (Exception e) {
      return;
    }
    Duration max = Duration.ofMillis(negotiated / 2);
    if (negotiated > 0 && driver.revokeDeadline.compareTo(max) > 0) {
      log.warn(
          "revokeDeadline {} ms of {} is more than half the negotiated session timeout ({} ms);"
              + " using {} ms",
          driver.revokeDeadline.toMillis(),
          selfId,
          negotiated,
          max.toMillis());
      driver.revokeDeadline = max;
    }
  }
}
