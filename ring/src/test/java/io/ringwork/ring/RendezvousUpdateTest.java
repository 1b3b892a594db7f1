package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

final class RendezvousUpdateTest {

  /**
   * Recomputing only the partitions a change can reach gives the full table, over chains of random
   * joins, leaves, weight and zone changes (several at once), with standbys in zones.
   */
  @Property(tries = 300)
  void assignFromPrevious_equalsFullTable(
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 10) int bits,
      @ForAll @IntRange(min = 1, max = 3) int replicas,
      @ForAll boolean weighted) {
    Random random = new Random(seed);
    RendezvousPlacement placement =
        (RendezvousPlacement)
            Placement.newBuilder()
                .strategy(Strategy.RENDEZVOUS)
                .partitions(1 << bits)
                .replicas(replicas)
                .build();
    BalancedPlacementTest.Fleet fleet = new BalancedPlacementTest.Fleet(random);
    fleet.grow(1 + random.nextInt(40));
    List<Member> members = weighted ? fleet.members() : unweighted(fleet.members());
    Assignment current = placement.assign(null, members);
    for (int step = 0; step < 20; step++) {
      int changes = random.nextInt(4) == 0 ? 1 + random.nextInt(6) : 1;
      for (int c = 0; c < changes; c++) {
        fleet.change();
      }
      members = weighted ? fleet.members() : unweighted(fleet.members());
      Assignment next = placement.assign(current, members);
      Assignment full = placement.recompute(current, members);
      assertThat(next.table()).isEqualTo(full.table());
      assertThat(next.members()).isEqualTo(full.members());
      assertThat(next.version()).isEqualTo(full.version());
      current = next;
    }
  }

  @Test
  void join_takesTheIncrementalPath() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      members.add(Member.of("m" + i, 1, "z" + (i % 3)));
    }
    RendezvousPlacement placement =
        (RendezvousPlacement)
            Placement.newBuilder()
                .strategy(Strategy.RENDEZVOUS)
                .partitions(4096)
                .replicas(2)
                .build();
    Assignment before = placement.assign(null, members);
    members.add(Member.of("joiner", 1, "z1"));
    Member[] sorted = Placements.sortedMembers(members);
    int[] table = new RendezvousPlacement.Scores(sorted, 2).update(before, 4096);
    assertThat(table).isNotNull().isEqualTo(placement.recompute(before, members).table());
  }

  private static List<Member> unweighted(List<Member> members) {
    List<Member> result = new ArrayList<>();
    members.forEach(m -> result.add(m.withWeight(1)));
    return result;
  }

  @Test
  void stepFromAChange_equalsAssignFromTheList() {
    PartitionPlacement placement =
        Placement.newBuilder()
            .strategy(Strategy.RENDEZVOUS)
            .partitions(256)
            .replicas(2)
            .buildPartitioned();
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      members.add(Member.of("m-" + i, 1, "z" + (i % 3)));
    }
    Assignment before = placement.assign(null, members);
    List<Member> after = new ArrayList<>(members);
    after.removeIf(m -> m.id().equals("m-3") || m.id().equals("m-7"));
    after.removeIf(m -> m.id().equals("m-9"));
    after.add(Member.of("m-9", 2, "z0"));
    after.add(Member.of("a-new", 1, "z1"));
    Assignment step =
        placement.step(
            before,
            List.of(Member.of("a-new", 1, "z1"), Member.of("m-9", 2, "z0")),
            List.of("m-3", "m-7", "m-9"));
    Assignment full = placement.assign(before, after);
    assertThat(step.members()).isEqualTo(full.members());
    assertThat(step.table()).isEqualTo(full.table());
    assertThat(step.version()).isEqualTo(2);
    assertThat(step.strategy()).isEqualTo(Strategy.RENDEZVOUS);
  }
}
