package io.ringwork.examples;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockRequest;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerHealthCheck;
import io.ringwork.rebalancer.RebalancerMeters;
import io.ringwork.ring.Member;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * The conductor again, with the per-key tools a service adds once it has a group: the owner's fast
 * path ({@link Rebalancer#guard} and {@link Rebalancer#tryGuard}), a foreign lock taken by a
 * process that is not a member ({@link Maintenance}), Micrometer meters ({@link RebalancerMeters})
 * and a health check ({@link RebalancerHealthCheck}). Writes go to the same fenced table as {@link
 * ConductorService}: {@code token <= ?}, with the guard's or the lock's token.
 */
public final class KeyedConductor implements AutoCloseable {

  private final Rebalancer rebalancer;
  private final Connection db;

  /**
   * Starts a member {@code id} of {@code group}, binds its meters to {@code meters} and registers
   * its health check in {@code health} as {@code "ringwork"}.
   *
   * @throws SQLException if the database cannot be opened
   */
  public KeyedConductor(
      String zookeeper,
      String group,
      String id,
      String jdbcUrl,
      MeterRegistry meters,
      HealthCheckRegistry health)
      throws SQLException {
    this.db = DriverManager.getConnection(jdbcUrl);
    ConductorService.createTable(db);
    MetricRegistry dropwizard = new MetricRegistry();
    this.rebalancer =
        Rebalancer.newBuilder()
            .group(group)
            .member(Member.of(id))
            .connectString(zookeeper)
            .partitions(256)
            .sessionTimeout(Duration.ofSeconds(5))
            .metrics(dropwizard)
            .build();
    rebalancer.start();
    new RebalancerMeters(rebalancer, group, dropwizard).bindTo(meters);
    health.register("ringwork", new RebalancerHealthCheck(rebalancer));
  }

  /** The member, for its state and its partitions. */
  public Rebalancer rebalancer() {
    return rebalancer;
  }

  /**
   * Processes a node wherever it is owned: on the owner the guard is the fast path (no ZooKeeper
   * request); elsewhere, or while someone else locks the node, it takes the node's lock and waits
   * for it. Either way the write carries the guard's token.
   *
   * @return whether the fenced write landed
   * @throws LockTimeoutException if a lock was needed and not granted within 10 s
   */
  public boolean process(String node)
      throws LockTimeoutException, InterruptedException, SQLException {
    try (KeyGuard g = rebalancer.guard(node, LockMode.EXCLUSIVE, Duration.ofSeconds(10))) {
      return write(node, g.token());
    }
  }

  /**
   * Processes a node only if this member owns it and nobody else locks it: no request, no waiting
   * ({@link Rebalancer#tryGuard}). The usual shape of a periodic task that each member runs over
   * its own nodes.
   *
   * @return whether it processed the node (owned, free, and the fenced write landed)
   */
  public boolean processIfOwned(String node) throws SQLException {
    Optional<KeyGuard> guard = rebalancer.tryGuard(node, LockMode.EXCLUSIVE);
    if (guard.isEmpty()) {
      return false;
    }
    try (KeyGuard g = guard.get()) {
      return g.isValid() && write(node, g.token());
    }
  }

  private boolean write(String node, long token) throws SQLException {
    try (PreparedStatement update =
        db.prepareStatement(
            "UPDATE resources SET owner = ?, token = ?, processed = processed + 1"
                + " WHERE name = ? AND token <= ?")) {
      update.setString(1, rebalancer.memberId());
      update.setLong(2, token);
      update.setString(3, node);
      update.setLong(4, token);
      return update.executeUpdate() == 1;
    }
  }

  /** Drains (hands every node over, up to 30 s), then closes the database. */
  @Override
  public void close() throws SQLException, InterruptedException {
    try {
      rebalancer.drain(Duration.ofSeconds(30));
    } catch (IllegalStateException e) {
      rebalancer.close(); // closed already (or never started): close is idempotent
    } finally {
      db.close();
    }
  }

  /**
   * An operator's tool or an API handler that is not a member: it locks a node in the group's lock
   * namespace, so that the node's owner steps aside (its guard on the node waits) until it is done,
   * and it writes with the lock's token, which is above every token the owner used before.
   */
  public static final class Maintenance implements AutoCloseable {
    private final CuratorFramework client;
    private final KeyLocks locks;
    private final Connection db;

    /**
     * Connects as {@code id} (not a member: it takes no partitions).
     *
     * @throws SQLException if the database cannot be opened
     */
    public Maintenance(String zookeeper, String group, String id, String jdbcUrl)
        throws SQLException {
      this.db = DriverManager.getConnection(jdbcUrl);
      // A lock is handed out under the session lease, which begins T/5 after the client's first
      // renewal (see SessionLease): with Curator's default 60 s session that is 12 s, longer than
      // the 10 s lock timeout below, so give the client a session timeout of a service's size.
      this.client =
          CuratorFrameworkFactory.builder()
              .connectString(zookeeper)
              .sessionTimeoutMs(10_000)
              .retryPolicy(new ExponentialBackoffRetry(100, 5))
              .build();
      client.start();
      this.locks = KeyLocks.newBuilder().client(client).group(group).memberId(id).build();
      locks.start();
    }

    /**
     * Locks {@code node}, runs {@code work} with the lock's token, writes the node with it, and
     * releases.
     *
     * @return whether the fenced write landed
     * @throws LockTimeoutException if the lock was not granted within 10 s (the message names the
     *     holder)
     */
    public boolean maintain(String node, Runnable work)
        throws LockTimeoutException, InterruptedException, SQLException {
      LockHandle h =
          locks.acquire(
              LockRequest.of(node, LockMode.EXCLUSIVE)
                  .withPurpose("maintenance")
                  .withTimeout(Duration.ofSeconds(10)));
      try {
        work.run();
        try (PreparedStatement update =
            db.prepareStatement(
                "UPDATE resources SET owner = ?, token = ?, processed = processed + 1"
                    + " WHERE name = ? AND token <= ?")) {
          update.setString(1, locks.memberId());
          update.setLong(2, h.token());
          update.setString(3, node);
          update.setLong(4, h.token());
          return update.executeUpdate() == 1;
        }
      } finally {
        h.release();
      }
    }

    @Override
    public void close() throws SQLException {
      locks.close();
      client.close();
      db.close();
    }
  }
}
