package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
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

  private Rebalancer start(String id, List<String> events) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("t-" + id)
            .member(Member.of(id))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(2))
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
      zk.expireSession(r.curator());
      await().atMost(WAIT).until(() -> events.contains("lost"));
      assertThat(r.awaitStable(WAIT)).isTrue();
      assertThat(r.grant(0).orElseThrow().token()).isGreaterThan(before);
    }
  }

  @Test
  void dropConnection_suspendsAndResumesInTheSameSession() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    try (Rebalancer r = start("dropped", events)) {
      assertThat(r.awaitStable(WAIT)).isTrue();
      long session = r.curator().getZookeeperClient().getZooKeeper().getSessionId();
      zk.dropConnection(r.curator());
      await().atMost(WAIT).until(() -> events.contains("resumed"));
      assertThat(events).doesNotContain("lost");
      assertThat(r.curator().getZookeeperClient().getZooKeeper().getSessionId()).isEqualTo(session);
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
