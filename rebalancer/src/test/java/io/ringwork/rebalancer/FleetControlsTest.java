package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ringwork.rebalancer.FleetState.Reservation;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 19: restart grace, maintenance pause and remote drain, against a real ZooKeeper server.
 *
 * <p>Timing: graces and pauses are a few seconds and every bound that a test asserts from above has
 * seconds of slack (scaled by {@code ringwork.test.timing}), so that the tests hold at a load
 * average of 10+; the lower bounds (nothing moves before a deadline) are checked a full second
 * before it, which load can only make safer, never falsely fail.
 */
final class FleetControlsTest {

  private static final int P = 64;
  private static final String GROUP_PATH = "/ringwork/fleet";
  private static final Duration STABLE = RingworkZooKeeper.scaled(Duration.ofSeconds(20));
  private static final Duration SESSION = Duration.ofSeconds(4);

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final List<Rebalancer> workers = new ArrayList<>();
  private final History history = new History();

  @BeforeEach
  void watchSessions() {
    history.watch(zk.client(), "fleet");
  }

  @AfterEach
  void stop() throws Exception {
    workers.forEach(Rebalancer::close);
    history.close();
  }

  private Rebalancer worker(String id, String strategy, Duration grace) {
    RebalancerBuilder b =
        Rebalancer.newBuilder()
            .group("fleet")
            .member(Member.of(id))
            .connectString(zk.connectString())
            .sessionTimeout(SESSION)
            .strategy(strategy)
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(1))
            .listener(history.listenerFor(id));
    if (grace != null) {
      b.restartGrace(grace);
    }
    Rebalancer r = b.build();
    workers.add(r);
    r.start();
    history.track(r); // its grant() answers go into the strict history too
    return r;
  }

  private List<Rebalancer> live() {
    return workers.stream().filter(r -> !r.isClosedForTest()).toList();
  }

  private void awaitAllStable() throws InterruptedException {
    for (Rebalancer r : live()) {
      assertThat(r.awaitStable(STABLE)).as("%s stable", r.memberId()).isTrue();
    }
  }

  private static Map<Integer, Long> tokens(Rebalancer r) {
    Map<Integer, Long> out = new HashMap<>();
    for (int p : r.ownedPartitions()) {
      out.put(p, r.grant(p).orElseThrow().token());
    }
    return out;
  }

  private Set<Integer> ownedByLive() {
    Set<Integer> all = new HashSet<>();
    for (Rebalancer r : live()) {
      for (int p : r.ownedPartitions()) {
        assertThat(all.add(p)).as("partition %d owned twice", p).isTrue();
      }
    }
    return all;
  }

  private Reservation reservation(String id) throws Exception {
    return FleetState.read(zk.client(), new io.ringwork.membership.GroupPaths(GROUP_PATH))
        .reservations()
        .get(id);
  }

  @ParameterizedTest
  @ValueSource(strings = {"balanced", "rendezvous"})
  void restartWithinGrace_getsTheSamePartitionsBack_withHigherTokens_andNothingMovesToOthers(
      String strategy) throws Exception {
    Duration grace = RingworkZooKeeper.scaled(Duration.ofSeconds(30));
    worker("a", strategy, grace);
    Rebalancer b = worker("b", strategy, grace);
    worker("c", strategy, grace);
    awaitAllStable();
    Map<Integer, Long> before = tokens(b);
    assertThat(before).isNotEmpty();
    Map<String, Set<Integer>> others = new HashMap<>();
    for (Rebalancer r : live()) {
      if (r != b) {
        others.put(r.memberId(), r.ownedPartitions());
      }
    }
    int assignedBefore = countAssigned();

    assertThat(b.closeForRestart()).isTrue();
    assertThat(reservation("b").state()).isEqualTo(Reservation.State.RESTARTING);
    awaitAllStable();
    // The group settled without b: its partitions are unowned, nobody else was given them.
    assertThat(ownedByLive()).doesNotContainAnyElementsOf(before.keySet());
    for (Rebalancer r : live()) {
      assertThat(r.ownedPartitions()).isEqualTo(others.get(r.memberId()));
    }

    Rebalancer back = worker("b", strategy, grace);
    awaitAllStable();
    Map<Integer, Long> after = tokens(back);
    assertThat(after.keySet()).isEqualTo(before.keySet());
    after.forEach((p, t) -> assertThat(t).as("token of %d", p).isGreaterThan(before.get(p)));
    for (Rebalancer r : live()) {
      if (r != back) {
        assertThat(r.ownedPartitions()).isEqualTo(others.get(r.memberId()));
      }
    }
    // The only grant since the restart is b's own: nothing moved to or between the others.
    assertThat(countAssigned()).isEqualTo(assignedBefore + 1);
    assertThat(ownedByLive()).hasSize(P);
    await()
        .atMost(STABLE)
        .untilAsserted(
            () -> assertThat(reservation("b").state()).isEqualTo(Reservation.State.PRESENT));
    history.assertExclusiveAndFenced();
  }

  private int countAssigned() {
    return (int) history.events().stream().filter(e -> e.contains(" assigned ")).count();
  }

  @Test
  void crashedMember_neverBack_isReplacedAfterTheGrace_notBefore() throws Exception {
    Duration grace = Duration.ofSeconds(3);
    worker("a", "balanced", grace);
    Rebalancer b = worker("b", "balanced", grace);
    worker("c", "balanced", grace);
    awaitAllStable();
    Set<Integer> bs = b.ownedPartitions();
    long crashed = System.nanoTime();
    history.crashed("b");
    b.crashForTest(); // its session ends at once, without a drain
    await()
        .atMost(STABLE)
        .untilAsserted(
            () -> assertThat(reservation("b").state()).isEqualTo(Reservation.State.ABSENT));
    // A second before the grace is over, b's partitions are still nobody's.
    long checkUntil = crashed + grace.minusSeconds(1).toNanos();
    while (System.nanoTime() < checkUntil) {
      assertThat(ownedByLive()).doesNotContainAnyElementsOf(bs);
      Thread.sleep(100); // sampling a condition that must hold throughout, not waiting for one
    }
    // Replaced within grace + session timeout + slack (the slack covers a loaded machine).
    Duration bound = grace.plus(SESSION).plus(RingworkZooKeeper.scaled(Duration.ofSeconds(6)));
    await().atMost(bound).until(() -> ownedByLive().size() == P);
    assertThat(Duration.ofNanos(System.nanoTime() - crashed)).isGreaterThanOrEqualTo(grace);
    assertThat(reservation("b")).isNull();
    history.assertExclusiveAndFenced();
  }

  @Test
  void leaderChangeDuringTheGrace_keepsTheReservation() throws Exception {
    Duration grace = RingworkZooKeeper.scaled(Duration.ofSeconds(30));
    for (String id : List.of("a", "b", "c", "d")) {
      worker(id, "balanced", grace);
    }
    awaitAllStable();
    Rebalancer leader =
        live().stream().filter(r -> r.sessionForTest().isLeader()).findFirst().orElseThrow();
    Rebalancer restarting = live().stream().filter(r -> r != leader).findFirst().orElseThrow();
    String id = restarting.memberId();
    Set<Integer> reserved = restarting.ownedPartitions();
    restarting.closeForRestart();
    awaitAllStable();
    // The leader leaves for good: its partitions move at once, the reservation stays.
    leader.close();
    awaitAllStable();
    await()
        .atMost(STABLE)
        .until(() -> live().stream().anyMatch(r -> r.sessionForTest().isLeader()));
    awaitAllStable();
    assertThat(ownedByLive()).doesNotContainAnyElementsOf(reserved);
    assertThat(reservation(id).state()).isEqualTo(Reservation.State.RESTARTING);

    Rebalancer back = worker(id, "balanced", grace);
    awaitAllStable();
    // Back with everything it had (its quota grew as the leader left: it may hold more now).
    assertThat(back.ownedPartitions()).containsAll(reserved);
    assertThat(ownedByLive()).hasSize(P);
    history.assertExclusiveAndFenced();
  }

  @ParameterizedTest
  @ValueSource(strings = {"balanced", "rendezvous"})
  void aMemberStartingAloneDuringTheGrace_neverTakesTheReservedPartitions(String strategy)
      throws Exception {
    Duration grace = RingworkZooKeeper.scaled(Duration.ofSeconds(30));
    Rebalancer a = worker("a", strategy, grace);
    Rebalancer b = worker("b", strategy, grace);
    awaitAllStable();
    Set<Integer> reserved = b.ownedPartitions();
    b.closeForRestart();
    a.close(); // leaves for good: nobody is left, b's reservation stays
    // A fresh process leads at once: its very first table already keeps b's partitions for b.
    Rebalancer c = worker("c", strategy, grace);
    awaitAllStable();
    assertThat(c.ownedPartitions()).hasSizeLessThan(P);
    Rebalancer back = worker("b", strategy, grace);
    awaitAllStable();
    if (strategy.equals("balanced")) {
      assertThat(back.ownedPartitions()).isEqualTo(reserved); // sticky: exactly its own
    }
    // c was never given, even for a moment, a partition the group kept for b.
    Set<Integer> everC = new HashSet<>();
    history.holds().stream()
        .filter(h -> h.member().equals("c"))
        .forEach(h -> everC.add(h.partition()));
    assertThat(everC).doesNotContainAnyElementsOf(back.ownedPartitions());
    assertThat(ownedByLive()).hasSize(P);
    history.assertExclusiveAndFenced();
  }

  @Test
  void closeAndDrain_endTheReservation_theirPartitionsMoveAtOnce() throws Exception {
    Duration grace = RingworkZooKeeper.scaled(Duration.ofSeconds(30));
    worker("a", "balanced", grace);
    Rebalancer b = worker("b", "balanced", grace);
    Rebalancer c = worker("c", "balanced", grace);
    awaitAllStable();
    await().atMost(STABLE).until(() -> reservation("b") != null && reservation("c") != null);
    b.close();
    assertThat(reservation("b")).isNull();
    c.drain(STABLE);
    assertThat(reservation("c")).isNull();
    awaitAllStable();
    assertThat(ownedByLive()).hasSize(P);
    history.assertExclusiveAndFenced();
  }

  @Test
  void closeForRestart_withoutAGrace_isRefused() throws Exception {
    Rebalancer a = worker("a", "balanced", null);
    assertThatThrownBy(a::closeForRestart)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("restartGrace");
  }

  @ParameterizedTest
  @ValueSource(strings = {"balanced", "rendezvous"})
  void joinDuringAPause_getsNothingUntilThePauseEndsByItself(String strategy) throws Exception {
    worker("a", strategy, null);
    worker("b", strategy, null);
    awaitAllStable();
    Map<String, Set<Integer>> before = new HashMap<>();
    live().forEach(r -> before.put(r.memberId(), r.ownedPartitions()));
    Duration pause = RingworkZooKeeper.scaled(Duration.ofSeconds(4));
    GroupAdmin admin = GroupAdmin.of(zk.client(), GROUP_PATH, "test");
    FleetState.Pause stored = admin.pause(pause, "maintenance");
    assertThat(stored.members()).containsExactly("a", "b");
    long paused = System.nanoTime();
    Rebalancer c = worker("c", strategy, null);
    awaitAllStable();
    long checkUntil = paused + pause.minusSeconds(1).toNanos();
    while (System.nanoTime() < checkUntil) {
      assertThat(c.ownedPartitions()).isEmpty();
      live().stream()
          .filter(r -> r != c)
          .forEach(r -> assertThat(r.ownedPartitions()).isEqualTo(before.get(r.memberId())));
      Thread.sleep(100); // sampling a condition that must hold throughout, not waiting for one
    }
    // Nobody resumes: the leader ends the pause at its deadline, and c gets its share.
    await()
        .atMost(pause.plus(RingworkZooKeeper.scaled(Duration.ofSeconds(10))))
        .until(() -> !c.ownedPartitions().isEmpty());
    assertThat(admin.pauseInPlace()).isEmpty();
    awaitAllStable();
    assertThat(ownedByLive()).hasSize(P);
    history.assertExclusiveAndFenced();
  }

  @Test
  void crashDuringAPause_isReOwnedAtOnce_resumeEndsIt() throws Exception {
    worker("a", "balanced", null);
    Rebalancer b = worker("b", "balanced", null);
    worker("c", "balanced", null);
    awaitAllStable();
    GroupAdmin admin = GroupAdmin.of(zk.client(), GROUP_PATH, "test");
    admin.pause(Duration.ofMinutes(10), "");
    history.crashed("b");
    b.crashForTest();
    // Availability first: a member whose session ended loses its partitions even while paused.
    await()
        .atMost(SESSION.plus(RingworkZooKeeper.scaled(Duration.ofSeconds(10))))
        .until(() -> ownedByLive().size() == P);
    Rebalancer d = worker("d", "balanced", null);
    awaitAllStable();
    assertThat(d.ownedPartitions()).isEmpty();
    assertThat(admin.resume()).isTrue();
    await().atMost(STABLE).until(() -> !d.ownedPartitions().isEmpty());
    awaitAllStable();
    assertThat(ownedByLive()).hasSize(P);
    history.assertExclusiveAndFenced();
  }

  @ParameterizedTest
  @ValueSource(strings = {"balanced", "rendezvous"})
  void remoteDrain_handsOverAndStays_undrainTakesWorkAgain(String strategy) throws Exception {
    worker("a", strategy, Duration.ofSeconds(30));
    Rebalancer b = worker("b", strategy, Duration.ofSeconds(30));
    awaitAllStable();
    assertThat(b.ownedPartitions()).isNotEmpty();
    GroupAdmin admin = GroupAdmin.of(zk.client(), GROUP_PATH, "ops");
    admin.drain("b");
    await().atMost(STABLE).until(() -> b.state() == Rebalancer.State.DRAINING);
    await().atMost(STABLE).until(() -> b.ownedPartitions().isEmpty() && ownedByLive().size() == P);
    // A drained member gives up its reservation: leaving now would move nothing.
    await().atMost(STABLE).until(() -> reservation("b") == null);
    assertThat(b.isClosedForTest()).isFalse();
    assertThat(admin.undrain("b")).isTrue();
    await().atMost(STABLE).until(() -> !b.ownedPartitions().isEmpty());
    awaitAllStable();
    assertThat(b.state()).isEqualTo(Rebalancer.State.STABLE);
    assertThat(ownedByLive()).hasSize(P);
    assertThatThrownBy(() -> admin.drain("nobody"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nobody")
        .hasMessageContaining("[a, b]");
    assertThatThrownBy(() -> GroupAdmin.of(zk.client(), "/ringwork/missing", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/ringwork/missing");
    b.close();
    assertThat(new TreeSet<>(zk.client().getChildren().forPath(GROUP_PATH + "/fleet/drain")))
        .isEmpty();
    history.assertExclusiveAndFenced();
  }

  /** A drained member that then leaves for a restart reserves nothing and leaves no request. */
  @Test
  void remotelyDrained_thenCloseForRestart_reservesNothing_andItsDrainRequestGoes()
      throws Exception {
    worker("a", "balanced", Duration.ofSeconds(30));
    Rebalancer b = worker("b", "balanced", Duration.ofSeconds(30));
    awaitAllStable();
    GroupAdmin.of(zk.client(), GROUP_PATH, "ops").drain("b");
    await().atMost(STABLE).until(() -> b.state() == Rebalancer.State.DRAINING);
    assertThat(b.closeForRestart()).isFalse();
    assertThat(reservation("b")).isNull();
    assertThat(zk.client().checkExists().forPath(GROUP_PATH + "/fleet/drain/b"))
        .as("the drain request of a member that left")
        .isNull();
    history.assertExclusiveAndFenced();
  }
}
