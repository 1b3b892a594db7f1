package io.ringwork.ring;

import static io.ringwork.ring.BalancedPlacementTest.balanced;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

final class BalancedStepTest {

  /**
   * The incremental step equals the full recomputation from the same previous assignment: the same
   * table (so the same quotas, counts and move count), over chains of random joins, leaves, weight
   * and zone changes, several at once, with standbys in zones and with a throttle.
   */
  @Property(tries = 300)
  void incrementalStep_equalsFullRecomputation(
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 12) int bits,
      @ForAll @IntRange(min = 1, max = 3) int replicas,
      @ForAll @IntRange(min = 0, max = 60) int maxMoves) {
    Random random = new Random(seed);
    BalancedPlacement placement = balanced(1 << bits, replicas, maxMoves);
    BalancedPlacementTest.Fleet fleet = new BalancedPlacementTest.Fleet(random);
    fleet.grow(1 + random.nextInt(40));
    Assignment current = placement.assign(null, fleet.members());
    for (int step = 0; step < 25; step++) {
      int changes = random.nextInt(4) == 0 ? 1 + random.nextInt(8) : random.nextInt(2);
      for (int c = 0; c < changes; c++) {
        fleet.change();
      }
      List<Member> members = fleet.members();
      Assignment full = placement.recompute(current, members);
      assertSame(placement.assign(current, members), full);
      // The incremental step itself, also where assign would judge the full pass cheaper.
      Assignment step1 =
          new BalancedStep(placement, current, Placements.sortedMembers(members)).next(true);
      assertSame(step1, full);
      AssignmentDelta delta = AssignmentDelta.between(current, step1);
      assertThat(delta.moved()).isEqualTo(AssignmentDelta.between(current, full).moved());
      assertThat(AssignmentDelta.movedPartitions(current, step1))
          .isEqualTo(delta.moves().stream().mapToInt(AssignmentDelta.Move::partition).toArray());
      if (maxMoves == 0) {
        BalancedPlacementTest.checkQuotas(placement, step1, members);
        BalancedPlacementTest.checkMinimalMovement(placement, current, step1);
      }
      current = step1;
    }
  }

  @Test
  void join_copiesOnlyTheChunksItTouches() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      members.add(Member.of(String.format("m-%03d", i)));
    }
    BalancedPlacement placement = balanced(1 << 16, 1, 0);
    Assignment before = placement.assign(null, members);
    members.add(Member.of("m-500a"));
    Assignment after = placement.assign(before, members);
    int moved = AssignmentDelta.between(before, after).moved();
    int copied = 0;
    for (int c = 0; c < after.chunks().length; c++) {
      if (after.chunks()[c] != before.chunks()[c]) {
        copied++;
      }
    }
    assertThat(copied).isPositive().isLessThanOrEqualTo(moved);
    assertThat(after.primaryCount("m-500a")).isEqualTo(placement.quotas(members).get("m-500a"));
    // The slots of members that stayed did not move although their indices did.
    assertThat(after.indexOf("m-999")).isEqualTo(before.indexOf("m-999") + 1);
    assertThat(after.partitionsOf("m-999")).isEqualTo(partitionsByScan(after, "m-999"));
    assertThat(after.partitionsOf("m-500a")).isEqualTo(partitionsByScan(after, "m-500a"));
  }

  @Test
  void joinAmongFewMembers_takesTheFullPass_withTheSameResult() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      members.add(Member.of("m-" + i));
    }
    BalancedPlacement placement = balanced(1 << 16, 1, 0);
    Assignment before = placement.assign(null, members);
    members.add(Member.of("m-5a"));
    // Every member gives up partitions: the step would copy every list, so the full pass runs.
    assertThat(new BalancedStep(placement, before, Placements.sortedMembers(members)).next())
        .isNull();
    assertSame(placement.assign(before, members), placement.recompute(before, members));
  }

  @Test
  void longChain_reusesFreedSlots() {
    BalancedPlacement placement = balanced(4096, 1, 0);
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      members.add(Member.of("a" + i));
    }
    Assignment current = placement.assign(null, members);
    for (int i = 0; i < 500; i++) {
      members.remove(0);
      members.add(Member.of("b" + i));
      Assignment next =
          new BalancedStep(placement, current, Placements.sortedMembers(members)).next(true);
      assertSame(next, placement.recompute(current, members));
      current = next;
    }
    assertThat(current.slotMembers()).hasSizeLessThanOrEqualTo(11);
  }

  private static int[] partitionsByScan(Assignment a, String id) {
    List<Integer> found = new ArrayList<>();
    for (int p = 0; p < a.partitions(); p++) {
      if (a.primary(p).id().equals(id)) {
        found.add(p);
      }
    }
    return found.stream().mapToInt(Integer::intValue).toArray();
  }

  private static void assertSame(Assignment actual, Assignment expected) {
    assertThat(actual.members()).isEqualTo(expected.members());
    assertThat(actual.version()).isEqualTo(expected.version());
    assertThat(actual.ownersPerPartition()).isEqualTo(expected.ownersPerPartition());
    assertThat(actual.primaryCounts()).isEqualTo(expected.primaryCounts());
    assertThat(actual.table()).isEqualTo(expected.table());
    for (Member m : actual.members()) {
      assertThat(actual.partitionsOf(m.id())).isEqualTo(expected.partitionsOf(m.id()));
    }
  }
}
