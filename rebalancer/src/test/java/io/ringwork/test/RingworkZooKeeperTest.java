package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import io.ringwork.ring.Member;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Each fault of the extension does to a real rebalancer what it says. */
final class RingworkZooKeeperTest {

  @RegisterExtension static final RingworkZooKeeper zk = RingworkZooKeeper.embedded();

  private static final Duration WAIT = Duration.ofSeconds(30);

  /**
   * Short enough that a stopped server ends the session within the test; used where expiry is
   * wanted or harmless.
   */
  private static final Duration SHORT_SESSION = Duration.ofSeconds(2);

  /**
   * A dropped connection must not cost the session. After a drop the ZooKeeper client sleeps up to
   * 1 s before it reconnects, and on a loaded 2-core machine the reconnect itself took more than
   * the remaining second often enough (4 of 9 runs) that Curator declared the 2 s session LOST. Ten
   * seconds leaves the reconnect 9 s after its longest sleep (the embedded server allows it: see
   * {@code EmbeddedBackend.MAX_SESSION_MS}).
   */
  private static final Duration DROP_SESSION = Duration.ofSeconds(10);

  private Rebalancer start(String id, List<String> events) {
    return start(id, events, SHORT_SESSION);
  }

  private Rebalancer start(String id, List<String> events, Duration session) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("t-" + id)
            .member(Member.of(id))
            .connectString(zk.connectString())
            .sessionTimeout(session)
            .partitions(16)
            .settleDelay(Duration.ofMillis(50))
            .listener(
                new OwnershipListener() {
                  @Override
                  public void onLost(Set<Integer> partitions) {
                    events.add("lost");
                  }

                  @Override
                  public void onSuspended() {
                    events.add("suspended");
                  }

                  @Override
                  public void onResumed() {
                    events.add("resumed");
                  }
                })
            .build();
    r.start();
    return r;
  }

  @Test
  void expireSession_memberLosesItsGrantsThenRejoinsWithNewOnes() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    try (Rebalancer r = start("expired", events)) {
      assertThat(r.awaitStable(WAIT)).isTrue();
      long before = r.grant(0).orElseThrow().token();
      zk.expireSession(RebalancerInternals.curator(r));
      await().atMost(WAIT).until(() -> events.contains("lost"));
      assertThat(r.awaitStable(WAIT)).isTrue();
      assertThat(r.grant(0).orElseThrow().token()).isGreaterThan(before);
    }
  }

  @Test
  void dropConnection_suspendsAndResumesInTheSameSession() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    try (Rebalancer r = start("dropped", events, DROP_SESSION)) {
      assertThat(r.awaitStable(WAIT)).isTrue();
      long session =
          RebalancerInternals.curator(r).getZookeeperClient().getZooKeeper().getSessionId();
      assertThat(
              RebalancerInternals.curator(r)
                  .getZookeeperClient()
                  .getZooKeeper()
                  .getSessionTimeout())
          .as("the negotiated session timeout, the margin of this test")
          .isEqualTo((int) DROP_SESSION.toMillis());
      zk.dropConnection(RebalancerInternals.curator(r));
      await().atMost(WAIT).until(() -> events.contains("resumed"));
      assertThat(events).doesNotContain("lost");
      assertThat(RebalancerInternals.curator(r).getZookeeperClient().getZooKeeper().getSessionId())
          .isEqualTo(session);
      assertThat(r.awaitStable(WAIT)).isTrue();
    }
  }

  @Test
  void stopAndRestartServer_suspendsThenResumes() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    try (Rebalancer r = start("outage", events)) {
      assertThat(r.awaitStable(WAIT)).isTrue();
      zk.stopServer();
      await().atMost(WAIT).until(() -> events.contains("suspended"));
      assertThat(r.grant(0)).isEmpty();
      zk.restartServer();
      assertThat(r.awaitStable(WAIT)).isTrue();
      assertThat(r.grant(0)).isPresent();
    }
  }
}
