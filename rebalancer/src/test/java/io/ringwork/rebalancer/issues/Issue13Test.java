package io.ringwork.rebalancer.issues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.membership.Membership;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.History;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerHealthCheck;
import io.ringwork.rebalancer.RebalancerMetrics;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Issue 13: correctness findings of a new user (items 1 to 5). */
final class Issue13Test {

  private static final int P = 16;
  private static final Duration STABLE = Duration.ofSeconds(20);

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private CuratorFramework client;
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final History history = new History();

  @BeforeEach
  void start() throws Exception {
    client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
    client.start();
    history.watch(client, "g");
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    history.close();
    client.close();
  }

  private Rebalancer build(String id, OwnershipListener listener, Duration revokeDeadline) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of(id))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(4))
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(revokeDeadline)
            .listener(listener)
            .build();
    closing.add(r);
    history.track(r);
    return r;
  }

  private Rebalancer worker(String id) {
    Rebalancer r = build(id, history.listenerFor(id), Duration.ofSeconds(1));
    r.start();
    return r;
  }

  /** Item 1: a start refused for a duplicate id, on the service's own client, deletes nothing. */
  @Test
  void refusedStart_onTheServicesOwnClient_touchesNoNodeOfTheLiveMember() throws Exception {
    Rebalancer live = worker("c-1");
    assertThat(live.awaitStable(STABLE)).isTrue();
    Stat memberBefore = client.checkExists().forPath("/ringwork/g/members/c-1");
    Stat ackBefore = client.checkExists().forPath("/ringwork/g/acks/c-1");
    assertThat(ackBefore).isNotNull();

    CuratorFramework service =
        CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
    service.start();
    closing.add(service);
    Rebalancer duplicate =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of("c-1"))
            .curator(service)
            .partitions(P)
            .build();
    assertThatThrownBy(duplicate::start).hasMessageContaining("already held by a live session");

    Stat memberAfter = client.checkExists().forPath("/ringwork/g/members/c-1");
    Stat ackAfter = client.checkExists().forPath("/ringwork/g/acks/c-1");
    assertThat(memberAfter).isNotNull();
    assertThat(memberAfter.getCzxid()).isEqualTo(memberBefore.getCzxid());
    assertThat(ackAfter).as("the live member's acknowledgement").isNotNull();
    assertThat(ackAfter.getEphemeralOwner()).isEqualTo(ackBefore.getEphemeralOwner());
    assertThat(live.ownedPartitions()).hasSize(P);
  }

  /** Item 2: an observer that joined first is neither placed nor the leader of the placement. */
  @Test
  void observerJoinedFirst_neverPlacedNeverLeads_workerGetsEverything() throws Exception {
    Membership observer =
        Membership.newBuilder()
            .group("g")
            .member(Member.of("j-1"))
            .connectString(zk.connectString())
            .role(Membership.Role.OBSERVER)
            .build();
    closing.add(observer);
    observer.start();
    Rebalancer w = worker("w-1");
    assertThat(w.awaitStable(Duration.ofSeconds(10))).isTrue();
    assertThat(w.ownedPartitions()).hasSize(P);
    assertThat(w.assignment().orElseThrow().members())
        .extracting(Member::id)
        .containsExactly("w-1");
    assertThat(observer.isLeader()).isFalse();
    await()
        .atMost(STABLE)
        .until(() -> observer.view().leader().equals(java.util.Optional.of("w-1")));
    assertThat(observer.view().members())
        .filteredOn(m -> m.id().equals("j-1"))
        .singleElement()
        .satisfies(m -> assertThat(m.isWorker()).isFalse());
  }

  /** Item 3: close() from inside a callback neither deadlocks nor stalls the group. */
  @Test
  void closeFromTheListener_returnsAtOnce_andTheGroupMovesOnBeforeTheRevokeDeadline()
      throws Exception {
    Rebalancer stays = worker("stays");
    assertThat(stays.awaitStable(STABLE)).isTrue();
    AtomicReference<Rebalancer> self = new AtomicReference<>();
    AtomicLong closeNanos = new AtomicLong(-1);
    CountDownLatch closed = new CountDownLatch(1);
    OwnershipListener closer =
        new OwnershipListener() {
          @Override
          public void onAssigned(List<Grant> grants) {
            history.listenerFor("leaves").onAssigned(grants);
            long start = System.nanoTime();
            self.get().close();
            closeNanos.set(System.nanoTime() - start);
            closed.countDown();
          }

          @Override
          public void onRevoked(Set<Integer> partitions) {
            history.listenerFor("leaves").onRevoked(partitions);
          }
        };
    Rebalancer leaves = build("leaves", closer, Duration.ofSeconds(10));
    self.set(leaves);
    leaves.start();
    assertThat(closed.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(closeNanos.get()).isLessThan(TimeUnit.SECONDS.toNanos(1));
    // Well inside the 10 s revoke deadline: the leaver revoked and left, so 'stays' has it all.
    await().atMost(Duration.ofSeconds(5)).until(() -> stays.ownedPartitions().size() == P);
    assertThat(stays.awaitStable(Duration.ofSeconds(5))).isTrue();
    history.assertExclusiveAndFenced();
  }

  /** Item 3: drain() from inside a callback starts the drain and returns at once. */
  @Test
  void drainFromTheListener_returnsAtOnce_andHandsEverythingOver() throws Exception {
    Rebalancer stays = worker("stays");
    assertThat(stays.awaitStable(STABLE)).isTrue();
    AtomicReference<Rebalancer> self = new AtomicReference<>();
    AtomicBoolean returned = new AtomicBoolean();
    CountDownLatch drained = new CountDownLatch(1);
    OwnershipListener drainer =
        new OwnershipListener() {
          @Override
          public void onAssigned(List<Grant> grants) {
            history.listenerFor("drains").onAssigned(grants);
            try {
              returned.set(!self.get().drain(Duration.ofSeconds(10)));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            drained.countDown();
          }

          @Override
          public void onRevoked(Set<Integer> partitions) {
            history.listenerFor("drains").onRevoked(partitions);
          }
        };
    Rebalancer drains = build("drains", drainer, Duration.ofSeconds(10));
    self.set(drains);
    drains.start();
    assertThat(drained.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(returned).isTrue();
    await().atMost(Duration.ofSeconds(5)).until(() -> stays.ownedPartitions().size() == P);
    await().atMost(Duration.ofSeconds(5)).until(() -> drains.state() == Rebalancer.State.CLOSED);
    history.assertExclusiveAndFenced();
  }

  /** Item 4: calls that need a started rebalancer fail fast before start(). */
  @Test
  void beforeStart_grantAwaitStableAndDrainThrow() {
    Rebalancer r = build("early", new OwnershipListener() {}, Duration.ofSeconds(1));
    assertThat(r.state()).isEqualTo(Rebalancer.State.LATENT);
    assertThatThrownBy(() -> r.grant("k"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("start()");
    assertThatThrownBy(() -> r.grant(3)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> r.awaitStable(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> r.drain(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * Item 5: members sharing a registry keep their own metrics; closing one removes only its own.
   */
  @Test
  void sharedRegistry_metricsPerMember_closeRemovesOnlyItsOwn() throws Exception {
    MetricRegistry registry = new MetricRegistry();
    Rebalancer a =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of("a"))
            .connectString(zk.connectString())
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .metrics(registry)
            .build();
    Rebalancer b =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of("b"))
            .connectString(zk.connectString())
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .metrics(registry)
            .build();
    closing.add(a);
    closing.add(b);
    a.start();
    b.start();
    assertThat(a.awaitStable(STABLE)).isTrue();
    assertThat(b.awaitStable(STABLE)).isTrue();
    for (String member : List.of("a", "b")) {
      for (String metric : RebalancerMetrics.NAMES) {
        assertThat(registry.getNames()).contains("ringwork.g." + member + "." + metric);
      }
    }
    int owned = 0;
    for (String member : List.of("a", "b")) {
      owned +=
          (Integer)
              registry.getGauges().get("ringwork.g." + member + ".partitions.owned").getValue();
    }
    assertThat(owned).isEqualTo(P);
    a.close();
    assertThat(registry.getNames()).noneMatch(n -> n.startsWith("ringwork.g.a."));
    assertThat(registry.getNames()).contains("ringwork.g.b.partitions.owned");
    await()
        .atMost(STABLE)
        .until(
            () -> registry.getGauges().get("ringwork.g.b.partitions.owned").getValue().equals(P));
  }

  /** Item 17: the state and the health check follow the member through a suspension. */
  @Test
  void healthCheck_followsTheState_throughSuspensionAndClose() throws Exception {
    Rebalancer r = build("h", history.listenerFor("h"), Duration.ofSeconds(1));
    RebalancerHealthCheck check = new RebalancerHealthCheck(r);
    assertThat(check.execute().isHealthy()).isFalse();
    assertThat(check.execute().getMessage()).contains("LATENT");
    r.start();
    assertThat(r.awaitStable(STABLE)).isTrue();
    await().atMost(STABLE).until(() -> r.state() == Rebalancer.State.STABLE);
    assertThat(check.execute().isHealthy()).isTrue();
    assertThat(check.execute().getMessage()).contains("STABLE").contains("holding 16 partitions");
    assertThat(r.connectString()).isEqualTo(zk.connectString());

    zk.stopServer();
    await().atMost(STABLE).until(() -> r.state() == Rebalancer.State.SUSPENDED);
    assertThat(check.execute().isHealthy()).isFalse();
    zk.restartServer();
    await().atMost(STABLE).until(() -> r.state() == Rebalancer.State.STABLE);
    assertThat(check.execute().isHealthy()).isTrue();
    r.close();
    assertThat(r.state()).isEqualTo(Rebalancer.State.CLOSED);
    assertThat(check.execute().isHealthy()).isFalse();
  }
}
