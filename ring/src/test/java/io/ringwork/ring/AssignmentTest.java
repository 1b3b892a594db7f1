package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

final class AssignmentTest {

  private final List<Member> members =
      List.of(Member.of("c", 1, "z1"), Member.of("a", 1, "z2"), Member.of("b", 2, "z3"));
  private final Assignment assignment =
      BalancedPlacementTest.balanced(64, 2, 0).assign(null, members);

  @Test
  void members_sortedById() {
    assertThat(assignment.members()).extracting(Member::id).containsExactly("a", "b", "c");
    assertThat(assignment.indexOf("b")).isEqualTo(1);
    assertThat(assignment.indexOf("zz")).isEqualTo(-1);
    assertThat(assignment.member("c")).contains(members.get(0));
  }

  @Test
  void lookups_agree() {
    for (String key : List.of("node-1", "node-2", "stack-9", "")) {
      int p = assignment.partition(key);
      assertThat(assignment.primary(key)).isEqualTo(assignment.primary(p));
      assertThat(assignment.owners(key)).isEqualTo(assignment.owners(p));
      assertThat(assignment.owners(key).get(0)).isEqualTo(assignment.primary(key));
      assertThat(assignment.members().get(assignment.ownerIndex(p, 1)))
          .isEqualTo(assignment.owners(p).get(1));
    }
  }

  @Test
  void partitionsOf_matchCounts() {
    int total = 0;
    for (Member m : assignment.members()) {
      int[] parts = assignment.partitionsOf(m.id());
      assertThat(parts).hasSize(assignment.primaryCount(m.id())).isSorted();
      for (int p : parts) {
        assertThat(assignment.primary(p)).isEqualTo(m);
      }
      total += parts.length;
      assertThat(assignment.standbyPartitionsOf(m.id())).doesNotContain(parts);
    }
    assertThat(total).isEqualTo(64);
    assertThat(assignment.primaryCounts()).containsEntry("b", 32);
    assertThat(assignment.partitionsOf("nobody")).isEmpty();
  }

  @Test
  void fromTable_roundTrips() {
    Assignment copy =
        Assignment.fromTable(
            Strategy.BALANCED, 7, assignment.partitioner(), 2, members, assignment.table());
    assertThat(copy.table()).isEqualTo(assignment.table());
    assertThat(copy.version()).isEqualTo(7);
    assertThat(copy.primaryCounts()).isEqualTo(assignment.primaryCounts());
  }

  @Test
  void fromTable_badTables_rejectedWithLocation() {
    int[] table = assignment.table();
    assertThatThrownBy(
            () ->
                Assignment.fromTable(
                    Strategy.BALANCED, 1, assignment.partitioner(), 2, members, new int[3]))
        .hasMessageContaining("128 entries, got 3");
    table[10] = 9;
    assertThatThrownBy(
            () ->
                Assignment.fromTable(
                    Strategy.BALANCED, 1, assignment.partitioner(), 2, members, table))
        .hasMessageContaining("owner index 9 out of range [0, 3) at partition 5");
    int[] twice = assignment.table();
    twice[11] = twice[10];
    assertThatThrownBy(
            () ->
                Assignment.fromTable(
                    Strategy.BALANCED, 1, assignment.partitioner(), 2, members, twice))
        .hasMessageContaining("listed twice as an owner of partition 5");
  }

  @Test
  void partition_outOfRange_rejected() {
    assertThatThrownBy(() -> assignment.primary(64)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> assignment.owners(-1)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void delta_reportsMovesGainsAndLosses() {
    List<Member> fewer = List.of(members.get(1), members.get(2));
    Assignment after = BalancedPlacementTest.balanced(64, 2, 0).assign(assignment, fewer);
    AssignmentDelta delta = AssignmentDelta.between(assignment, after);
    int lost = assignment.primaryCount("c");
    assertThat(delta.moved()).isEqualTo(lost);
    assertThat(delta.losses()).containsExactly(java.util.Map.entry("c", lost));
    assertThat(delta.gains().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(lost);
    assertThat(delta.lostBy("c")).containsExactly(assignment.partitionsOf("c"));
    assertThat(delta.gainedBy("a").length + delta.gainedBy("b").length).isEqualTo(lost);
    assertThat(delta.standbyChanges()).isNotEmpty();
    assertThat(delta.standbyChanges())
        .allSatisfy(c -> assertThat(c.before()).isNotEqualTo(c.after()));
  }
}
