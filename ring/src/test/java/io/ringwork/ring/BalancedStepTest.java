package io.ringwork.ring;

import static io.ringwork.ring.BalancedPlacementTest.balanced;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  /**
   * A step given as a change (joined members, left ids) equals the full recomputation for the
   * member list the change leads to: the same table, so the same quotas, primary counts and number
   * of moves, over chains of random joins, leaves, weight and zone changes (a changed member is
   * given as leaving and joining), several at once, with standbys in zones and with a throttle.
   */
  @Property(tries = 300)
  void changeStep_equalsFullRecomputation(
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
      Map<String, Member> before = new HashMap<>();
      for (Member m : current.members()) {
        before.put(m.id(), m);
      }
      List<Member> joined = new ArrayList<>();
      List<String> left = new ArrayList<>();
      for (Member m : members) {
        Member was = before.remove(m.id());
        if (!m.equals(was)) {
          joined.add(m);
          if (was != null) {
            left.add(m.id());
          }
        }
      }
      left.addAll(before.keySet());
      Collections.shuffle(joined, random);
      Assignment full = placement.recompute(current, members);
      Assignment next = placement.step(current, joined, left);
      assertSame(next, full);
      assertThat(next.primaryCounts()).isEqualTo(full.primaryCounts());
      assertThat(AssignmentDelta.between(current, next).moved())
          .isEqualTo(AssignmentDelta.between(current, full).moved());
      if (maxMoves == 0) {
        BalancedPlacementTest.checkQuotas(placement, next, members);
        BalancedPlacementTest.checkMinimalMovement(placement, current, next);
      }
      current = next;
    }
  }

  @Test
  void changeStep_badChanges_nameTheMember() {
    BalancedPlacement placement = balanced(64, 1, 0);
    Assignment a = placement.assign(null, List.of(Member.of("a"), Member.of("b")));
    assertThatThrownBy(() -> placement.step(a, List.of(), List.of("c")))
        .hasMessage("member 'c' cannot leave: it is not a member of version 1");
    assertThatThrownBy(() -> placement.step(a, List.of(Member.of("b")), List.of()))
        .hasMessage("member 'b' cannot join: it is already a member");
    assertThatThrownBy(() -> placement.step(a, List.of(), List.of("a", "a")))
        .hasMessage("member 'a' is listed twice as leaving");
    assertThatThrownBy(() -> placement.step(a, List.of(Member.of("c"), Member.of("c")), List.of()))
        .hasMessage("member 'c' is listed twice as joining");
    assertThatThrownBy(() -> placement.step(a, List.of(), List.of("a", "b")))
        .hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> balanced(128, 1, 0).step(a, List.of(), List.of("a")))
        .hasMessageContaining("the partition count of a group is fixed");
    // A member leaving and joining again stays, with its new weight.
    Assignment b = placement.step(a, List.of(Member.of("b", 3)), List.of("b"));
    assertThat(b.primaryCount("b")).isEqualTo(48);
    assertThat(b.members()).extracting(Member::id).containsExactly("a", "b");
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
