package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Rebalancing against a real 3-node ZooKeeper ensemble, with servers and workers failing. */
final class RebalancerClusterTest {

  private static final int P = 512;
  private static final Duration STABLE = Duration.ofSeconds(30);

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.ensemble(3).checkingLeaks();

  private final List<Rebalancer> workers = new ArrayList<>();
  private final History history = new History();

  @BeforeEach
  void start() {
    history.watch(zk.client(), "engines");
  }

  @AfterEach
  void stop() throws Exception {
    workers.forEach(Rebalancer::close);
    history.close();
  }

  private Rebalancer worker(String id, int maxMoves) {
    RebalancerBuilder b =
        Rebalancer.newBuilder()
            .group("engines")
            .member(Member.of(id))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(6))
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .metrics(new MetricRegistry())
            .listener(history.listenerFor(id));
    if (maxMoves > 0) {
      b.maxMovesPerStep(maxMoves);
    }
    Rebalancer r = b.build();
    workers.add(r);
    r.start();
    history.track(r);
    return r;
  }

  private void awaitAllStable() throws InterruptedException {
    for (Rebalancer r : workers) {
      if (!r.isClosedForTest()) {
        assertThat(r.awaitStable(STABLE)).as("%s stable", r.memberId()).isTrue();
      }
    }
  }

  private void assertExactlyOneOwnerEach() {
    Set<Integer> seen = new HashSet<>();
    for (Rebalancer r : workers) {
      if (!r.isClosedForTest()) {
        for (int p : r.ownedPartitions()) {
          assertThat(seen.add(p)).as("partition %d owned twice", p).isTrue();
        }
      }
    }
    assertThat(seen).hasSize(P);
    history.assertExclusiveAndFenced();
  }

  @Test
  void serverLoss_membershipAndOwnershipUndisturbed() throws Exception {
    for (int i = 0; i < 3; i++) {
      worker("w" + i, 0);
    }
    awaitAllStable();
    long version = workers.get(0).assignment().orElseThrow().version();
    zk.stopServer(0);
    awaitAllStable();
    assertExactlyOneOwnerEach();
    // Nobody left the group, so nothing was reassigned.
    assertThat(workers.get(0).assignment().orElseThrow().version()).isEqualTo(version);
  }

  @Test
  void leaderCrashMidRebalance_newLeaderContinuesFromStoredTable() throws Exception {
    Rebalancer first = worker("a", 5);
    assertThat(first.awaitStable(STABLE)).isTrue();
    worker("b", 5);
    worker("c", 5);
    // The throttle makes this a long plan; crash the leader while it is under way.
    org.awaitility.Awaitility.await()
        .atMost(STABLE)
        .until(() -> first.assignment().orElseThrow().version() >= 3);
    assertThat(first.sessionForTest().isLeader()).isTrue();
    long versionAtCrash = first.assignment().orElseThrow().version();
    history.crashed("a");
    first.crashForTest();
    awaitAllStable();
    assertExactlyOneOwnerEach();
    Rebalancer b = workers.get(1);
    assertThat(b.assignment().orElseThrow().version()).isGreaterThan(versionAtCrash);
    assertThat(b.assignment().orElseThrow().members())
        .extracting(Member::id)
        .containsExactly("b", "c");
    assertThat(b.ownedPartitions().size()).isEqualTo(P / 2);
  }
}
