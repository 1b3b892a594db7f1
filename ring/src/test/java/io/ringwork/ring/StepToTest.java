package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

final class StepToTest {

  /**
   * A step to a member list equals {@code assign} from the same previous assignment: the same
   * members, version, table, primary counts, quotas and moves, for the balanced placement (with
   * standbys in zones and throttles) and rendezvous, over chains of random joins, leaves, weight,
   * zone and label changes, several at once, the list given in any order, as new objects or as the
   * previous assignment's own.
   */
  @Property(tries = 300)
  void stepTo_equalsAssign(
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 12) int bits,
      @ForAll @IntRange(min = 1, max = 3) int replicas,
      @ForAll @IntRange(min = 0, max = 60) int maxMoves,
      @ForAll boolean rendezvous) {
    Random random = new Random(seed);
    PartitionPlacement placement =
        rendezvous
            ? Placement.newBuilder()
                .strategy(Strategy.RENDEZVOUS)
                .partitions(1 << Math.min(bits, 10))
                .replicas(replicas)
                .buildPartitioned()
            : BalancedPlacementTest.balanced(1 << bits, replicas, maxMoves);
    BalancedPlacement quotas = BalancedPlacementTest.balanced(1 << bits, 1, 0);
    BalancedPlacementTest.Fleet fleet = new BalancedPlacementTest.Fleet(random);
    Map<String, String> labels = new HashMap<>();
    fleet.grow(1 + random.nextInt(40));
    Assignment current = placement.stepTo(null, fleet.members());
    assertSame(current, placement.assign(null, fleet.members()));
    for (int step = 0; step < 25; step++) {
      int changes = random.nextInt(4) == 0 ? 1 + random.nextInt(8) : random.nextInt(2);
      for (int c = 0; c < changes; c++) {
        fleet.change();
      }
      List<Member> members = fleet.members();
      if (random.nextInt(5) == 0) {
        String id = members.get(random.nextInt(members.size())).id();
        labels.put(id, "l" + random.nextInt(3));
      }
      members = withLabels(members, labels, current, random);
      Assignment expected = placement.assign(current, members);
      Assignment next = placement.stepTo(current, members);
      assertSame(next, expected);
      assertThat(quotas.quotaArray(next.members()))
          .isEqualTo(quotas.quotaArray(expected.members()));
      assertThat(AssignmentDelta.between(current, next).moved())
          .isEqualTo(AssignmentDelta.between(current, expected).moved());
      assertThat(AssignmentDelta.movedPartitions(current, next))
          .isEqualTo(AssignmentDelta.movedPartitions(current, expected));
      // With nothing changed, the step is the one a throttled plan takes next.
      assertSame(placement.stepTo(next, members), placement.assign(next, members));
      current = next;
    }
  }

  /**
   * Applies the labels, then gives the list one of the orders and object identities a caller may
   * give: as it comes, sorted by id, shuffled; and a member that did not change as the previous
   * assignment's own object (a replayed plan) or as an equal copy (a view read anew).
   */
  private static List<Member> withLabels(
      List<Member> members, Map<String, String> labels, Assignment current, Random random) {
    Map<String, Member> previous = new HashMap<>();
    for (Member m : current.members()) {
      previous.put(m.id(), m);
    }
    boolean reuse = random.nextBoolean();
    List<Member> result = new ArrayList<>();
    for (Member m : members) {
      String label = labels.get(m.id());
      Member next = label == null ? m : m.withLabels(Set.of(label));
      Member was = previous.get(m.id());
      result.add(reuse && next.equals(was) ? was : next);
    }
    switch (random.nextInt(3)) {
      case 0 -> result.sort(Comparator.comparing(Member::id));
      case 1 -> Collections.shuffle(result, random);
      default -> {}
    }
    return result;
  }

  @Test
  void stepTo_labelChangeOnly_carriesTheNewMember() {
    BalancedPlacement placement = BalancedPlacementTest.balanced(64, 2, 0);
    Assignment a = placement.assign(null, List.of(Member.of("a", 1, "z1"), Member.of("b")));
    Member relabelled = Member.of("a", 1, "z1").withLabels(List.of("hw=ipmi"));
    Assignment b = placement.stepTo(a, List.of(Member.of("b"), relabelled));
    assertThat(b.members()).containsExactly(relabelled, Member.of("b"));
    assertThat(b.members().get(0).labels()).containsExactly("hw=ipmi");
    assertThat(b.table()).isEqualTo(a.table());
    assertThat(b.version()).isEqualTo(2);
  }

  @Test
  void stepTo_membersOutOfOrder_sameAsAssign() {
    BalancedPlacement placement = BalancedPlacementTest.balanced(256, 2, 0);
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      members.add(Member.of("m" + i, 1 + i % 3, "z" + i % 3));
    }
    Assignment a = placement.assign(null, members);
    // Staying members out of order, a joiner before them, one member gone.
    List<Member> after = new ArrayList<>(members.subList(1, members.size()));
    Collections.reverse(after);
    after.add(0, Member.of("m5a", 2, "z1"));
    assertSame(placement.stepTo(a, after), placement.assign(a, after));
    assertThat(placement.stepTo(a, after).members()).extracting(Member::id).isSorted();
  }

  @Test
  void stepTo_badMembers_failAsAssignDoes() {
    BalancedPlacement placement = BalancedPlacementTest.balanced(64, 1, 0);
    Assignment a = placement.assign(null, List.of(Member.of("a"), Member.of("b")));
    assertThatThrownBy(() -> placement.stepTo(a, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("members must not be empty: a ring needs one member");
    assertThatThrownBy(() -> placement.stepTo(a, List.of(Member.of("c"), Member.of("c", 2))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duplicate member id 'c'");
    assertThatThrownBy(
            () -> placement.stepTo(a, List.of(Member.of("a"), Member.of("a", 2), Member.of("b"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duplicate member id 'a'");
    assertThatThrownBy(() -> placement.stepTo(a, Arrays.asList(Member.of("a"), null)))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("member at position 1");
    assertThatThrownBy(() -> BalancedPlacementTest.balanced(128, 1, 0).stepTo(a, a.members()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the partition count of a group is fixed");
  }

  private static void assertSame(Assignment actual, Assignment expected) {
    assertThat(actual.strategy()).isEqualTo(expected.strategy());
    assertThat(actual.members()).isEqualTo(expected.members());
    assertThat(actual.version()).isEqualTo(expected.version());
    assertThat(actual.replicas()).isEqualTo(expected.replicas());
    assertThat(actual.ownersPerPartition()).isEqualTo(expected.ownersPerPartition());
    assertThat(actual.primaryCounts()).isEqualTo(expected.primaryCounts());
    assertThat(actual.table()).isEqualTo(expected.table());
  }
}
