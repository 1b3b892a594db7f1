package io.ringwork.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.membership.Membership;
import io.ringwork.test.RingworkZooKeeper;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How a service tests itself against the faults it must survive, with {@code ringwork-test}'s
 * {@link RingworkZooKeeper}: a conductor whose session the server expires loses its nodes, rejoins
 * with a new session, and the two conductors go on processing every node.
 */
final class ConductorServiceFaultsTest {

  @RegisterExtension static final RingworkZooKeeper zk = RingworkZooKeeper.embedded();

  private static final String DB = "jdbc:h2:mem:conductors-faults;DB_CLOSE_DELAY=-1";
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void sessionExpired_conductorRejoins_andEveryNodeIsStillProcessed() throws Exception {
    try (Connection check = DriverManager.getConnection(DB);
        CuratorFramework client = // c-2's own client, so that the test can expire its session
            Membership.newClientBuilder(zk.connectString(), Duration.ofSeconds(5)).build()) {
      client.start();
      try (ConductorService a = new ConductorService(zk.connectString(), "faults", "c-1", DB);
          ConductorService b = new ConductorService(client, "faults", "c-2", DB)) {
        assertThat(a.rebalancer().awaitStable(WAIT)).isTrue();
        assertThat(b.rebalancer().awaitStable(WAIT)).isTrue();
        await().atMost(WAIT).until(() -> count(check, "processed = 0") == 0);

        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        zk.expireSession(client); // the server ends c-2's session
        await()
            .atMost(WAIT)
            .until(() -> client.getZookeeperClient().getZooKeeper().getSessionId() != session);
        assertThat(b.rebalancer().awaitStable(WAIT)).isTrue();

        long before = sum(check);
        await().atMost(WAIT).until(() -> sum(check) > before + 2 * ConductorService.NODES);
        await().atMost(WAIT).until(() -> count(check, "owner = 'c-2'") > 0);
      }
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
