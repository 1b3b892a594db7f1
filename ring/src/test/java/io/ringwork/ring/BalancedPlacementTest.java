package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

final class BalancedPlacementTest {

  @Property(tries = 150)
  void randomChanges_keepExactQuotasAndMoveTheMinimum(
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 11) int bits,
      @ForAll @IntRange(min = 1, max = 3) int replicas) {
    Random random = new Random(seed);
    BalancedPlacement placement = balanced(1 << bits, replicas, 0);
    Fleet fleet = new Fleet(random);
    fleet.grow(1 + random.nextInt(12));
    Assignment current = placement.assign(null, fleet.members());
    checkQuotas(placement, current, fleet.members());
    for (int step = 0; step < 12; step++) {
      fleet.change();
      Assignment next = placement.assign(current, fleet.members());
      checkQuotas(placement, next, fleet.members());
      checkMinimalMovement(placement, current, next);
      checkOwners(next);
      assertThat(next.version()).isEqualTo(current.version() + 1);
      current = next;
    }
  }

  @Property(tries = 100)
  void firstTable_dependsOnlyOnTheMemberSet(
      @ForAll long seed, @ForAll @IntRange(min = 1, max = 30) int size) {
    Random random = new Random(seed);
    Fleet fleet = new Fleet(random);
    fleet.grow(size);
    List<Member> shuffled = new ArrayList<>(fleet.members());
    Collections.shuffle(shuffled, random);
    BalancedPlacement placement = balanced(1024, 2, 0);
    assertThat(placement.assign(null, shuffled).table())
        .isEqualTo(placement.assign(null, fleet.members()).table());
  }

  @Property(tries = 100)
  void sameMembers_moveNothing(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int r) {
    Random random = new Random(seed);
    Fleet fleet = new Fleet(random);
    fleet.grow(1 + random.nextInt(20));
    BalancedPlacement placement = balanced(512, r, 0);
    Assignment first = placement.assign(null, fleet.members());
    Assignment again = placement.assign(first, fleet.members());
    AssignmentDelta delta = AssignmentDelta.between(first, again);
    assertThat(delta.moved()).isZero();
    // Standbys settle after at most one step and are then stable.
    Assignment third = placement.assign(again, fleet.members());
    assertThat(AssignmentDelta.between(again, third).standbyChanges()).isEmpty();
  }

  @Property(tries = 100)
  void standbys_distinctAndSpreadOverZones(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 5) int zones,
      @ForAll @IntRange(min = 2, max = 4) int replicas) {
    Random random = new Random(seed);
    List<Member> members = new ArrayList<>();
    int n = 1 + random.nextInt(25);
    for (int i = 0; i < n; i++) {
      members.add(Member.of("m" + i, 1 + random.nextInt(3), "z" + random.nextInt(zones)));
    }
    BalancedPlacement placement = balanced(256, replicas, 0);
    Assignment a = placement.assign(null, members);
    checkOwners(a);
    members.remove(random.nextInt(members.size()));
    if (!members.isEmpty()) {
      Assignment b = placement.assign(a, members);
      checkOwners(b);
    }
  }

  @Test
  void standbys_changeOnlyWhenTheirMemberLeftOrThePrimaryChanged() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      members.add(Member.of("c" + i, 1, "z" + (i % 3)));
    }
    BalancedPlacement placement = balanced(4096, 3, 0);
    Assignment before = placement.assign(null, members);
    members.remove(7);
    Assignment after = placement.assign(before, members);
    AssignmentDelta delta = AssignmentDelta.between(before, after);
    Set<Integer> moved = new HashSet<>();
    delta.moves().forEach(m -> moved.add(m.partition()));
    long unexplained =
        delta.standbyChanges().stream()
            .filter(c -> !moved.contains(c.partition()) && !c.before().contains("c7"))
            .count();
    // Members that gained primaries hold fewer standbys to keep their total owner slots fair;
    // those few are the only other standby changes ("balance needs it").
    assertThat(unexplained).isLessThanOrEqualTo(4096 / 100);
    long lostStandbys =
        delta.standbyChanges().stream().filter(c -> c.before().contains("c7")).count();
    assertThat(lostStandbys).isEqualTo(before.standbyPartitionsOf("c7").length);
  }

  @Test
  void failover_prefersTheWarmStandby() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      members.add(Member.of("c" + i, 1, "z" + (i % 2)));
    }
    BalancedPlacement placement = balanced(1024, 2, 0);
    Assignment before = placement.assign(null, members);
    members.removeIf(m -> m.id().equals("c3"));
    Assignment after = placement.assign(before, members);
    int[] lost = before.partitionsOf("c3");
    int toStandby = 0;
    for (int p : lost) {
      if (after.primary(p).equals(before.owners(p).get(1))) {
        toStandby++;
      }
    }
    // Each survivor can take only its quota's worth; most failovers still go to the standby.
    assertThat(toStandby).isGreaterThan(lost.length / 2);
  }

  @Test
  void throttle_convergesInCeilSurplusOverMaxSteps() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      members.add(Member.of("c" + i));
    }
    Assignment current = balanced(4096, 1, 0).assign(null, members);
    members.add(Member.of("new-1"));
    members.add(Member.of("new-2"));
    BalancedPlacement throttled = balanced(4096, 1, 100);
    Map<String, Integer> quotas = throttled.quotas(members);
    int surplus = 0;
    for (Member m : members) {
      surplus += Math.max(0, current.primaryCount(m.id()) - quotas.get(m.id()));
    }
    int steps = 0;
    while (!meetsQuotas(current, quotas)) {
      Assignment next = throttled.assign(current, members);
      assertThat(AssignmentDelta.between(current, next).moved()).isLessThanOrEqualTo(100);
      current = next;
      steps++;
      assertThat(steps).isLessThanOrEqualTo(1000);
    }
    assertThat(steps).isEqualTo((surplus + 99) / 100);
  }

  @Test
  void throttle_neverDelaysRehomingDepartedPartitions() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      members.add(Member.of("c" + i));
    }
    BalancedPlacement throttled = balanced(4096, 1, 1);
    Assignment before = throttled.assign(null, members);
    int orphaned = before.primaryCount("c0");
    members.remove(0);
    Assignment after = throttled.assign(before, members);
    assertThat(after.primaryCount("c0")).isZero();
    assertThat(AssignmentDelta.between(before, after).moved()).isEqualTo(orphaned);
  }

  @Test
  void weightChange_countsAsAMembershipChange() {
    List<Member> members = new ArrayList<>(List.of(Member.of("a"), Member.of("b")));
    BalancedPlacement placement = balanced(4096, 1, 0);
    Assignment before = placement.assign(null, members);
    members.set(0, Member.of("a", 3));
    Assignment after = placement.assign(before, members);
    assertThat(after.primaryCount("a")).isEqualTo(3072);
    assertThat(AssignmentDelta.between(before, after).moved()).isEqualTo(1024);
  }

  @Test
  void quotas_largestRemainder_sumToP() {
    BalancedPlacement placement = balanced(16, 1, 0);
    Map<String, Integer> q =
        placement.quotas(List.of(Member.of("a"), Member.of("b"), Member.of("c")));
    assertThat(q.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(16);
    assertThat(q.values()).allSatisfy(v -> assertThat(v).isBetween(5, 6));
  }

  @Test
  void badInput_clearErrors() {
    BalancedPlacement placement = balanced(16, 1, 0);
    assertThatThrownBy(() -> placement.assign(null, List.of()))
        .hasMessageContaining("members must not be empty");
    assertThatThrownBy(() -> placement.assign(null, List.of(Member.of("a"), Member.of("a", 2))))
        .hasMessage("duplicate member id 'a'");
    Assignment other = balanced(32, 1, 0).assign(null, List.of(Member.of("a")));
    assertThatThrownBy(() -> placement.assign(other, List.of(Member.of("a"))))
        .hasMessageContaining("previous assignment has 32 partitions");
  }

  @Test
  void moreReplicasThanMembers_usesEveryMemberOnce() {
    Assignment a = balanced(64, 5, 0).assign(null, List.of(Member.of("a"), Member.of("b")));
    assertThat(a.ownersPerPartition()).isEqualTo(2);
    assertThat(a.replicas()).isEqualTo(5);
    for (int p = 0; p < 64; p++) {
      assertThat(a.owners(p)).doesNotHaveDuplicates().hasSize(2);
    }
  }

  static BalancedPlacement balanced(int partitions, int replicas, int maxMoves) {
    Placement.Builder b = Placement.newBuilder().partitions(partitions).replicas(replicas);
    if (maxMoves > 0) {
      b.maxMovesPerStep(maxMoves);
    }
    return (BalancedPlacement) b.build();
  }

  private static boolean meetsQuotas(Assignment a, Map<String, Integer> quotas) {
    return quotas.entrySet().stream().allMatch(e -> a.primaryCount(e.getKey()) == e.getValue());
  }

  /** (a): every member's count is its quota, floor or ceil of its exact share, summing to P. */
  static void checkQuotas(BalancedPlacement placement, Assignment a, List<Member> members) {
    double total = members.stream().mapToDouble(Member::weight).sum();
    Map<String, Integer> quotas = placement.quotas(members);
    int sum = 0;
    for (Member m : members) {
      double exact = a.partitions() * m.weight() / total;
      int count = a.primaryCount(m.id());
      assertThat(count).isEqualTo(quotas.get(m.id()));
      assertThat((double) count).isBetween(Math.floor(exact) - 1e-9, Math.ceil(exact) + 1e-9);
      sum += count;
    }
    assertThat(sum).isEqualTo(a.partitions());
  }

  /** (b): moved = departed partitions + sum of surpluses; within-quota members never trade. */
  static void checkMinimalMovement(
      BalancedPlacement placement, Assignment before, Assignment after) {
    Map<String, Integer> quotas = placement.quotas(after.members());
    int optimum = 0;
    for (Member m : before.members()) {
      Integer q = quotas.get(m.id());
      int had = before.primaryCount(m.id());
      optimum += q == null ? had : Math.max(0, had - q);
    }
    AssignmentDelta delta = AssignmentDelta.between(before, after);
    assertThat(delta.moved()).isEqualTo(optimum);
    for (AssignmentDelta.Move move : delta.moves()) {
      Integer fromQuota = quotas.get(move.from());
      if (fromQuota != null) {
        assertThat(before.primaryCount(move.from())).isGreaterThan(fromQuota);
      }
      assertThat(before.primaryCount(move.to())).isLessThan(quotas.get(move.to()));
    }
  }

  /** (d): owners are distinct and use min(owners, zones) distinct zones. */
  static void checkOwners(Assignment a) {
    Set<String> allZones = new HashSet<>();
    a.members().forEach(m -> allZones.add(m.zone().orElse("")));
    for (int p = 0; p < a.partitions(); p++) {
      List<Member> owners = a.owners(p);
      assertThat(owners).hasSize(a.ownersPerPartition()).doesNotHaveDuplicates();
      Set<String> zones = new HashSet<>();
      owners.forEach(m -> zones.add(m.zone().orElse("")));
      assertThat(zones.size())
          .as("distinct zones of partition %d", p)
          .isEqualTo(Math.min(owners.size(), allZones.size()));
    }
  }

  /** A random fleet: joins, leaves and weight changes. */
  static final class Fleet {
    private final Random random;
    private final Map<String, Member> members = new LinkedHashMap<>();
    private int next;

    Fleet(Random random) {
      this.random = random;
    }

    void grow(int count) {
      for (int i = 0; i < count; i++) {
        join();
      }
    }

    List<Member> members() {
      return new ArrayList<>(members.values());
    }

    void change() {
      int op = random.nextInt(7);
      if (op <= 1 || members.size() < 2) {
        join();
      } else if (op <= 3) {
        List<String> ids = new ArrayList<>(members.keySet());
        members.remove(ids.get(random.nextInt(ids.size())));
      } else if (op <= 5) {
        List<String> ids = new ArrayList<>(members.keySet());
        String id = ids.get(random.nextInt(ids.size()));
        members.put(id, members.get(id).withWeight(weight()));
      } else {
        List<String> ids = new ArrayList<>(members.keySet());
        String id = ids.get(random.nextInt(ids.size()));
        members.put(id, members.get(id).withZone("z" + random.nextInt(4)));
      }
    }

    private void join() {
      // Ids that sort before, between and after the others, so joins shift member indices.
      String id = (random.nextBoolean() ? "w" : "a") + next++;
      members.put(id, Member.of(id, weight(), "z" + random.nextInt(3)));
    }

    private double weight() {
      double[] weights = {1, 1, 2, 3, 0.5, 1.25};
      return weights[random.nextInt(weights.length)];
    }
  }
}
