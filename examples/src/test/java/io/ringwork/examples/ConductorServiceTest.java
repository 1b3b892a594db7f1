package io.ringwork.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.test.RingworkZooKeeper;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The quick-start service does its job: everything processed, fenced, and handed over on drain. */
final class ConductorServiceTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private static final String DB = "jdbc:h2:mem:conductors-test;DB_CLOSE_DELAY=-1";

  @Test
  void twoConductors_processEverything_fenced_andOneDrainsToTheOther() throws Exception {
    try (Connection check = DriverManager.getConnection(DB)) {
      ConductorService a = new ConductorService(zk.connectString(), "conductors", "c-1", DB);
      ConductorService b = new ConductorService(zk.connectString(), "conductors", "c-2", DB);
      assertThat(a.rebalancer().awaitStable(Duration.ofSeconds(30))).isTrue();
      assertThat(b.rebalancer().awaitStable(Duration.ofSeconds(30))).isTrue();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> count(check, "processed = 0") == 0 && count(check, "owner = 'c-2'") > 0);

      // A write with a token older than the row's is refused: what stops a stale owner.
      try (Statement s = check.createStatement()) {
        assertThat(
                s.executeUpdate(
                    "UPDATE resources SET owner = 'stale', processed = processed + 1"
                        + " WHERE name = 'node-1' AND token <= 1"))
            .isZero();
      }

      b.close(); // drains: its nodes go to c-1
      long before = sum(check);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> count(check, "owner <> 'c-1'") == 0 && sum(check) > before + 1000);
      a.close();
      assertThat(a.written()).isPositive();
      assertThat(b.written()).isPositive();
    }
  }

  private static long count(Connection c, String where) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT COUNT(*) FROM resources WHERE " + where)) {
      r.next();
      return r.getLong(1);
    }
  }

  private static long sum(Connection c) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT SUM(processed) FROM resources")) {
      r.next();
      return r.getLong(1);
    }
  }
}
