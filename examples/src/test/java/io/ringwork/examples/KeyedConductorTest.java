package io.ringwork.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.health.HealthCheckRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ringwork.test.RingworkZooKeeper;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link KeyedConductor} against a real ZooKeeper ({@code ringwork-test}'s {@link
 * RingworkZooKeeper}): the fast path, a foreign lock the owner steps aside for, the meters and the
 * health check.
 */
final class KeyedConductorTest {

  @RegisterExtension static final RingworkZooKeeper zk = RingworkZooKeeper.embedded();

  private static final String DB = "jdbc:h2:mem:keyed;DB_CLOSE_DELAY=-1";
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void fastPath_foreignLock_metersAndHealth() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    HealthCheckRegistry health = new HealthCheckRegistry();
    try (Connection check = DriverManager.getConnection(DB);
        KeyedConductor c =
            new KeyedConductor(zk.connectString(), "keyed", "c-1", DB, meters, health);
        KeyedConductor.Maintenance ops =
            new KeyedConductor.Maintenance(zk.connectString(), "keyed", "ops", DB)) {
      assertThat(c.rebalancer().awaitStable(WAIT)).isTrue();
      assertThat(health.runHealthCheck("ringwork").isHealthy()).isTrue();
      assertThat(meters.get("ringwork.partitions.owned").gauge().value()).isEqualTo(256);

      // The owner's fast path: every node processed without a lock.
      await().atMost(WAIT).until(() -> c.processIfOwned("node-0")); // its partitions are listed
      for (int i = 0; i < 100; i++) {
        assertThat(c.processIfOwned("node-" + i)).isTrue();
      }
      double fast = meters.get("ringwork.guards").tag("path", "fast").functionCounter().count();
      assertThat(fast).isGreaterThanOrEqualTo(100);
      long ownerToken = token(check, "node-7");

      // A foreign lock: the owner steps aside while maintenance runs, then resumes above it.
      CountDownLatch inside = new CountDownLatch(1);
      CountDownLatch finish = new CountDownLatch(1);
      CompletableFuture<Boolean> maintained =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return ops.maintain(
                      "node-7",
                      () -> {
                        inside.countDown();
                        try {
                          finish.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                          Thread.currentThread().interrupt();
                        }
                      });
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      assertThat(inside.await(30, TimeUnit.SECONDS))
          .as(() -> "maintenance: " + maintained.handle((v, e) -> v + " / " + e).getNow(null))
          .isTrue();
      assertThat(c.processIfOwned("node-7")).isFalse(); // locked by ops: no fast path, no wait
      assertThat(c.processIfOwned("node-8")).isTrue(); // other nodes are untouched
      CompletableFuture<Boolean> ownerWrite =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return c.process("node-7"); // waits for the lock
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      finish.countDown();
      assertThat(maintained.get(30, TimeUnit.SECONDS)).isTrue();
      long opsToken = token(check, "node-7");
      assertThat(ownerWrite.get(30, TimeUnit.SECONDS)).isTrue();
      assertThat(opsToken).isGreaterThan(ownerToken);
      assertThat(token(check, "node-7")).isGreaterThan(opsToken);
      await().atMost(WAIT).until(() -> c.processIfOwned("node-7")); // fast path again
      assertThat(meters.get("ringwork.guards").tag("path", "locked").functionCounter().count())
          .isGreaterThanOrEqualTo(1);

      // Health follows the member: unhealthy once it has left.
      c.rebalancer().close();
      assertThat(health.runHealthCheck("ringwork").isHealthy()).isFalse();
      assertThat(health.runHealthCheck("ringwork").getMessage()).contains("c-1 is CLOSED");
    }
  }

  private static long token(Connection c, String node) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT token FROM resources WHERE name = '" + node + "'")) {
      r.next();
      return r.getLong(1);
    }
  }
}
