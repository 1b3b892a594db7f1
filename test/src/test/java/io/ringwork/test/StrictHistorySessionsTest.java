package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.test.StrictHistory.Hold;
import io.ringwork.test.StrictHistory.Incarnation;
import io.ringwork.test.StrictHistory.Mode;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link StrictHistory#watchSessions} against a real server: the end of a session it saw. */
final class StrictHistorySessionsTest {

  @RegisterExtension static final RingworkZooKeeper zk = RingworkZooKeeper.embedded();

  private static final String MEMBERS = "/ringwork/g/members";

  private CuratorFramework client() throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.newClient(zk.connectString(), 4000, 4000, new RetryOneTime(100));
    c.start();
    assertThat(c.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
    return c;
  }

  @Test
  void watchSessions_expiredMember_excusesOnlyAHoldThatStoppedWithinTheBound() throws Exception {
    StrictHistory history = StrictHistory.create();
    try (CuratorFramework observer = client();
        CuratorFramework member = client()) {
      observer.create().creatingParentsIfNeeded().forPath(MEMBERS);
      member.create().withMode(CreateMode.EPHEMERAL).forPath(MEMBERS + "/w1");
      long session = member.getZookeeperClient().getZooKeeper().getSessionId();
      Incarnation old = new Incarnation("w1", session);
      try (AutoCloseable watch = history.watchSessions(observer, MEMBERS)) {
        Hold held = history.guardOpened(old, "k", 0, Mode.EXCLUSIVE, 1, true);
        zk.expireSession(member);
        // A successor whose token (a zxid) is above the deletion's: admitted after the end.
        history.grantRead(new Incarnation("w2", 99), 0, Long.MAX_VALUE);
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(() -> assertThat(history.violations(Duration.ofSeconds(30))).isEmpty());
        // Stopped long after its session ended: the overlap is not excused by a short bound.
        Thread.sleep(50); // the length of the overrun itself
        held.close();
        assertThat(history.violations(Duration.ofMillis(10)))
            .isNotEmpty()
            .allSatisfy(v -> assertThat(v).contains("w1#" + Long.toHexString(session)));
        assertThat(history.violations(Duration.ofSeconds(30))).isEmpty();
      }
    }
  }
}
