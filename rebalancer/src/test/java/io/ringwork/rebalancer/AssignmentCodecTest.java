package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Placement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class AssignmentCodecTest {

  private static PartitionPlacement placement(int partitions, int replicas) {
    return Placement.newBuilder().partitions(partitions).replicas(replicas).buildPartitioned();
  }

  private static List<Member> members(int n) {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      members.add(Member.of("worker-" + i, 1 + i % 2, "zone-" + i % 3).withLabels(List.of("g=a")));
    }
    return members;
  }

  @Test
  void snapshot_roundTrips() {
    Assignment a = placement(4096, 3).assign(null, members(10));
    Assignment b = AssignmentCodec.readSnapshot(AssignmentCodec.snapshot(a), KeyRouter.wholeKey());
    assertThat(b.table()).isEqualTo(a.table());
    assertThat(b.members()).isEqualTo(a.members());
    assertThat(b.version()).isEqualTo(a.version());
    assertThat(b.replicas()).isEqualTo(3);
  }

  @Test
  void delta_oneJoinAtP65536_isSmallAndReproducesTheTable() {
    PartitionPlacement placement = placement(65536, 2);
    List<Member> members = members(10);
    Assignment before = placement.assign(null, members);
    members.add(Member.of("joiner", 1, "zone-1"));
    Assignment after = placement.assign(before, members);
    byte[] delta = AssignmentCodec.delta(before, after);
    assertThat(delta.length).isLessThan(64 * 1024);
    Assignment applied = AssignmentCodec.applyDelta(before, delta);
    assertThat(applied.table()).isEqualTo(after.table());
    assertThat(applied.members()).isEqualTo(after.members());
    assertThat(applied.version()).isEqualTo(after.version());
  }

  @Test
  void delta_leaveShiftsIndices_appliedById() {
    PartitionPlacement placement = placement(1024, 1);
    List<Member> members = members(6);
    Assignment before = placement.assign(null, members);
    members.remove(0);
    Assignment after = placement.assign(before, members);
    Assignment applied = AssignmentCodec.applyDelta(before, AssignmentCodec.delta(before, after));
    assertThat(applied.table()).isEqualTo(after.table());
  }

  @Test
  void applyDelta_wrongBase_rejected() {
    PartitionPlacement placement = placement(64, 1);
    Assignment v1 = placement.assign(null, members(3));
    Assignment v2 = placement.assign(v1, members(4));
    Assignment v3 = placement.assign(v2, members(5));
    byte[] delta = AssignmentCodec.delta(v2, v3);
    assertThatThrownBy(() -> AssignmentCodec.applyDelta(v1, delta))
        .isInstanceOf(CorruptAssignmentException.class)
        .hasMessage("delta applies to version 2, not 1");
  }

  @Test
  void garbage_rejectedClearly() {
    assertThatThrownBy(
            () -> AssignmentCodec.readSnapshot(new byte[] {1, 2, 3}, KeyRouter.wholeKey()))
        .isInstanceOf(CorruptAssignmentException.class);
    Assignment a = placement(64, 1).assign(null, members(3));
    byte[] bytes = AssignmentCodec.snapshot(a);
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length / 2);
    assertThatThrownBy(() -> AssignmentCodec.readSnapshot(truncated, KeyRouter.wholeKey()))
        .isInstanceOf(CorruptAssignmentException.class);
  }
}
