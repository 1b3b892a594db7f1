package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Warm standbys (issue 19, item 4) against a real ZooKeeper: the standby set a member is told of is
 * exactly its rank-2-and-up set in the assignment in force, it follows joins and leaves, it is
 * never confused with ownership (no partition is owned and standby at once in what the listener
 * hears), and a promoted standby hears {@code onStandbyRevoked} before {@code onAssigned}.
 */
final class StandbyTest {

  private static final int P = 64;

  /** Generous for a loaded machine (load 10+): each wait is for a few handoffs of 100 ms. */
  private static final Duration STABLE = RingworkZooKeeper.scaled(Duration.ofSeconds(30));

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final List<Rebalancer> workers = new ArrayList<>();
  private final List<Recorder> recorders = new ArrayList<>();
  private final List<MetricRegistry> registries = new ArrayList<>();

  @AfterEach
  void stop() {
    workers.forEach(Rebalancer::close);
  }

  /**
   * What one member's listener heard, in order, and the owned and standby sets that follow from it.
   * Fails the test (through {@link #violations}) as soon as a callback would make a partition owned
   * and standby at once, or promote a standby without {@code onStandbyRevoked} first.
   */
  static final class Recorder implements OwnershipListener {
    final String id;
    final List<String> events = new ArrayList<>();
    final Set<Integer> owned = new TreeSet<>();
    final Set<Integer> standby = new TreeSet<>();
    final List<String> violations = new ArrayList<>();
    int promotions;
    private final Set<Integer> standbyEnded = new HashSet<>();

    Recorder(String id) {
      this.id = id;
    }

    @Override
    public synchronized void onAssigned(List<Grant> grants) {
      for (Grant g : grants) {
        events.add("assigned " + g.partition());
        if (standby.contains(g.partition())) {
          violations.add(id + " assigned " + g.partition() + " while still its standby");
        }
        if (standbyEnded.remove(g.partition())) {
          promotions++;
        }
        owned.add(g.partition());
      }
    }

    @Override
    public synchronized void onRevoked(Set<Integer> partitions) {
      partitions.forEach(p -> events.add("revoked " + p));
      owned.removeAll(partitions);
    }

    @Override
    public synchronized void onLost(Set<Integer> partitions) {
      owned.removeAll(partitions);
    }

    @Override
    public synchronized void onStandby(Set<Integer> partitions) {
      for (int p : partitions) {
        events.add("standby " + p);
        if (owned.contains(p)) {
          violations.add(id + " told standby of " + p + " while owning it");
        }
        if (!standby.add(p)) {
          violations.add(id + " told standby of " + p + " twice");
        }
      }
    }

    @Override
    public synchronized void onStandbyRevoked(Set<Integer> partitions) {
      for (int p : partitions) {
        events.add("standbyRevoked " + p);
        if (!standby.remove(p)) {
          violations.add(id + " told standby of " + p + " ended, never begun");
        }
        standbyEnded.add(p);
      }
    }

    synchronized Set<Integer> standby() {
      return new TreeSet<>(standby);
    }

    synchronized List<String> events() {
      return new ArrayList<>(events);
    }

    synchronized List<String> violations() {
      return new ArrayList<>(violations);
    }

    synchronized int promotions() {
      return promotions;
    }
  }

  private Rebalancer worker(String id, String zone, String strategy, int replicas) {
    Recorder rec = new Recorder(id);
    registries.add(new MetricRegistry());
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("standbys")
            .member(Member.of(id, 1, zone))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(4))
            .strategy(strategy)
            .partitions(P)
            .replicas(replicas)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(1))
            .metrics(registries.get(registries.size() - 1))
            .listener(rec)
            .build();
    workers.add(r);
    recorders.add(rec);
    r.start();
    return r;
  }

  private List<Integer> live() {
    List<Integer> open = new ArrayList<>();
    for (int i = 0; i < workers.size(); i++) {
      if (!workers.get(i).isClosedForTest()) {
        open.add(i);
      }
    }
    return open;
  }

  /**
   * Waits until every live member is stable on one assignment and has heard of exactly that
   * assignment's standbys; then checks them against the table and against ownership.
   */
  private void assertStandbysMatchThePlacement() throws InterruptedException {
    for (int i : live()) {
      assertThat(workers.get(i).awaitStable(STABLE))
          .as("%s stable", workers.get(i).memberId())
          .isTrue();
    }
    await()
        .atMost(STABLE)
        .untilAsserted(
            () -> {
              List<Member> members = null;
              for (int i : live()) {
                Rebalancer r = workers.get(i);
                Assignment a = r.assignment().orElseThrow();
                if (members == null) {
                  members = a.members();
                }
                // Rendezvous members number their tables locally: compare what they were made for.
                assertThat(a.members()).as("one assignment in force").isEqualTo(members);
                Set<Integer> expected =
                    Arrays.stream(a.standbyPartitionsOf(r.memberId()))
                        .boxed()
                        .collect(Collectors.toCollection(TreeSet::new));
                assertThat(r.standbyPartitions())
                    .as("%s standbyPartitions()", r.memberId())
                    .isEqualTo(expected);
                assertThat(recorders.get(i).standby())
                    .as("%s standbys as its listener heard them", r.memberId())
                    .isEqualTo(expected);
              }
            });
    Set<Integer> primaries = new HashSet<>();
    for (int i : live()) {
      Rebalancer r = workers.get(i);
      Assignment a = r.assignment().orElseThrow();
      assertThat(r.standbyPartitions()).doesNotContainAnyElementsOf(r.ownedPartitions());
      for (int p : r.standbyPartitions()) {
        assertThat(r.grant(p)).as("no grant for standby partition %d", p).isEmpty();
        assertThat(a.owners(p).subList(1, a.owners(p).size()))
            .extracting(Member::id)
            .contains(r.memberId());
      }
      primaries.addAll(r.ownedPartitions());
    }
    assertThat(primaries).hasSize(P);
    for (Recorder rec : recorders) {
      assertThat(rec.violations()).as("what %s heard", rec.id).isEmpty();
    }
  }

  @Test
  void balanced_standbysAreThePlacementsAndFollowJoinAndLeave() throws Exception {
    worker("s1", "z1", "balanced", 2);
    worker("s2", "z2", "balanced", 2);
    worker("s3", "z3", "balanced", 2);
    assertStandbysMatchThePlacement();
    List<Set<Integer>> before = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      before.add(workers.get(i).standbyPartitions());
      assertThat(before.get(i)).isNotEmpty();
      assertThat(
              registries
                  .get(i)
                  .getGauges()
                  .get("ringwork.standbys.s" + (i + 1) + ".partitions.standby")
                  .getValue())
          .isEqualTo(before.get(i).size());
    }

    worker("s4", "z4", "balanced", 2);
    assertStandbysMatchThePlacement();
    assertThat(workers.get(3).standbyPartitions()).as("the joiner stands by").isNotEmpty();
    // One standby per partition in all: what the joiner stands by for, the others no longer do.
    int lost = 0;
    for (int i = 0; i < 3; i++) {
      Set<Integer> gone = new TreeSet<>(before.get(i));
      gone.removeAll(workers.get(i).standbyPartitions());
      lost += gone.size();
    }
    assertThat(lost).as("standbys the first three gave up when s4 joined").isPositive();

    // s2 leaves: its primaries go first to their standbys (failover), who are promoted.
    int promotionsBefore = recorders.stream().mapToInt(Recorder::promotions).sum();
    workers.get(1).close();
    assertStandbysMatchThePlacement();
    assertThat(recorders.stream().mapToInt(Recorder::promotions).sum())
        .as("standbys promoted to primary after s2 left")
        .isGreaterThan(promotionsBefore);
    assertPromotionOrder();
    assertThat(recorders.get(1).standby()).as("s2 told every standby ended on close").isEmpty();
    assertThat(workers.get(1).standbyPartitions()).isEmpty();
  }

  @Test
  void rendezvous_standbysAreThePlacements() throws Exception {
    worker("r1", "z1", "rendezvous", 3);
    worker("r2", "z2", "rendezvous", 3);
    worker("r3", "z3", "rendezvous", 3);
    assertStandbysMatchThePlacement();
    workers.get(2).close();
    assertStandbysMatchThePlacement();
    assertPromotionOrder();
  }

  @Test
  void oneReplica_noStandbyCallbacks() throws Exception {
    worker("o1", "z1", "balanced", 1);
    worker("o2", "z2", "balanced", 1);
    assertStandbysMatchThePlacement();
    workers.get(1).close();
    assertThat(workers.get(0).awaitStable(STABLE)).isTrue();
    for (int i = 0; i < workers.size(); i++) {
      assertThat(workers.get(i).standbyPartitions()).isEmpty();
      assertThat(recorders.get(i).events())
          .noneMatch(e -> e.startsWith("standby"))
          .anyMatch(e -> e.startsWith("assigned"));
    }
  }

  /**
   * A close that gives up on a stuck event thread (past its budget of 2 x the revoke deadline + 5
   * s) still ends every standby: {@link Rebalancer#standbyPartitions()} is empty once close()
   * returns, and the listener hears {@code onStandbyRevoked} for all of them from the closing
   * thread's queue, as its Javadoc says.
   */
  @Test
  void closeGivingUpOnAStuckEventThread_stillEndsEveryStandby() throws Exception {
    worker("k1", "z1", "balanced", 2);
    worker("k2", "z2", "balanced", 2);
    assertStandbysMatchThePlacement();
    Rebalancer r = workers.get(0);
    Set<Integer> before = r.standbyPartitions();
    assertThat(before).isNotEmpty();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    r.runOnEventThreadForTest(
        () -> {
          entered.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    try {
      assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
      r.close();
      assertThat(r.standbyPartitions()).as("standbys after close").isEmpty();
    } finally {
      release.countDown();
    }
    await().atMost(STABLE).until(() -> recorders.get(0).standby().isEmpty());
    assertThat(recorders.get(0).events())
        .filteredOn(e -> e.startsWith("standbyRevoked "))
        .extracting(e -> Integer.valueOf(e.substring("standbyRevoked ".length())))
        .containsAll(before);
    assertThat(recorders.get(0).violations()).isEmpty();
  }

  /**
   * Every partition a member was assigned after standing by for it heard {@code standbyRevoked}
   * first, with no other standby or ownership event of that partition in between.
   */
  private void assertPromotionOrder() {
    for (Recorder rec : recorders) {
      List<String> events = rec.events();
      for (int i = 0; i < events.size(); i++) {
        if (!events.get(i).startsWith("assigned ")) {
          continue;
        }
        String p = events.get(i).substring("assigned ".length());
        for (int j = i - 1; j >= 0; j--) {
          String e = events.get(j);
          if (e.endsWith(" " + p)) {
            assertThat(e)
                .as("%s: the event of partition %s before it was assigned", rec.id, p)
                .isIn("standbyRevoked " + p, "revoked " + p);
            break;
          }
        }
      }
    }
  }
}
