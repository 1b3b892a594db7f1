package io.ringwork.rebalancer.issues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.rebalancer.History;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 10, part 1: a member whose session is replaced while the servers still keep the old one
 * used to write its acknowledgement into the old session's node; when the old session expired, the
 * acknowledgement vanished while the member still held its partitions, and a joiner activated them.
 */
final class Issue10Test {

  private static final int P = 64;
  private static final Duration SESSION = Duration.ofSeconds(3);
  private static final Duration STABLE = Duration.ofSeconds(40);

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.ensemble(3).checkingLeaks();

  private CuratorFramework observer;
  private final List<Rebalancer> workers = new ArrayList<>();
  private final History history = new History();

  @AfterEach
  void stop() throws Exception {
    workers.forEach(Rebalancer::close);
    history.close();
  }

  private Rebalancer worker(String id) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of(id))
            .connectString(zk.connectString())
            .sessionTimeout(SESSION)
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(1))
            .metrics(new MetricRegistry())
            .listener(history.listenerFor(id))
            .build();
    if (workers.isEmpty()) {
      history.watch(zk.client(), "g");
    }
    workers.add(r);
    r.start();
    history.track(r);
    return r;
  }

  private void awaitAllStable() throws InterruptedException {
    for (Rebalancer r : workers) {
      assertThat(r.awaitStable(STABLE)).as("%s stable", r.memberId()).isTrue();
    }
  }

  /** Each worker's acknowledgement belongs to the session that owns its member node. */
  private void assertAcksOwnedByCurrentSessions() throws Exception {
    for (Rebalancer r : workers) {
      Stat member = observer.checkExists().forPath("/ringwork/g/members/" + r.memberId());
      Stat ack = observer.checkExists().forPath("/ringwork/g/acks/" + r.memberId());
      assertThat(member).as("member node of %s", r.memberId()).isNotNull();
      assertThat(ack).as("ack of %s", r.memberId()).isNotNull();
      assertThat(ack.getEphemeralOwner())
          .as("session owning the ack of %s", r.memberId())
          .isEqualTo(member.getEphemeralOwner());
    }
  }

  @Test
  void sessionReplacedWhileServersKeepTheOldOne_ackFollowsTheNewSession_noOverlap()
      throws Exception {
    observer = zk.client();
    worker("a");
    worker("b");
    awaitAllStable();

    // Take the quorum away past the session timeout: the clients give their sessions up and open
    // new ones when it is back, while the re-formed ensemble keeps the old sessions for up to a
    // session timeout more.
    zk.stopServer(0);
    zk.stopServer(1);
    await()
        .atMost(STABLE)
        .until(
            () ->
                history.events().stream().anyMatch(e -> e.startsWith("a lost"))
                    && history.events().stream().anyMatch(e -> e.startsWith("b lost")));
    zk.restartServer(0);
    zk.restartServer(1);
    awaitAllStable();
    assertAcksOwnedByCurrentSessions();

    // No ephemeral node of the group belongs to anything but a live member's current session.
    await()
        .atMost(STABLE)
        .untilAsserted(
            () -> {
              Set<Long> owners = new HashSet<>();
              for (String child : observer.getChildren().forPath("/ringwork/g/members")) {
                owners.add(
                    observer
                        .checkExists()
                        .forPath("/ringwork/g/members/" + child)
                        .getEphemeralOwner());
              }
              assertThat(owners).hasSize(2);
              // Every ephemeral node of the group belongs to a live member's current session.
              for (String child : observer.getChildren().forPath("/ringwork/g/acks")) {
                assertThat(owners)
                    .contains(
                        observer
                            .checkExists()
                            .forPath("/ringwork/g/acks/" + child)
                            .getEphemeralOwner());
              }
            });
    worker("c");
    awaitAllStable();
    assertAcksOwnedByCurrentSessions();
    Set<Integer> owned = new HashSet<>();
    for (Rebalancer r : workers) {
      for (int p : r.ownedPartitions()) {
        assertThat(owned.add(p)).as("partition %d owned twice", p).isTrue();
      }
    }
    assertThat(owned).hasSize(P);
    history.assertExclusiveAndFenced();
  }
}
