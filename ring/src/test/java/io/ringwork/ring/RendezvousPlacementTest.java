package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

final class RendezvousPlacementTest {

  @Property(tries = 100)
  void joinOrLeave_changesOnlyPartitionsInvolvingThatMember(
      @ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int replicas) {
    Random random = new Random(seed);
    List<Member> members = new ArrayList<>();
    int n = 2 + random.nextInt(15);
    for (int i = 0; i < n; i++) {
      members.add(Member.of("m" + i, 1 + random.nextInt(3), "z" + random.nextInt(3)));
    }
    RendezvousPlacement placement = rendezvous(256, replicas);
    Assignment before = placement.assign(null, members);
    Member joiner = Member.of("joiner", 2, "z" + random.nextInt(4));
    members.add(joiner);
    Assignment afterJoin = placement.assign(before, members);
    for (int p = 0; p < 256; p++) {
      if (!afterJoin.owners(p).equals(before.owners(p))) {
        assertThat(afterJoin.owners(p)).contains(joiner);
      }
    }
    Member leaver = members.get(random.nextInt(members.size() - 1));
    members.remove(leaver);
    Assignment afterLeave = placement.assign(afterJoin, members);
    for (int p = 0; p < 256; p++) {
      if (!afterLeave.owners(p).equals(afterJoin.owners(p))) {
        assertThat(afterJoin.owners(p)).contains(leaver);
      }
    }
  }

  @Property(tries = 50)
  void table_dependsOnlyOnTheMemberSet(@ForAll long seed) {
    Random random = new Random(seed);
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 1 + random.nextInt(20); i++) {
      members.add(Member.of("m" + i, 1 + random.nextInt(3)));
    }
    List<Member> shuffled = new ArrayList<>(members);
    Collections.shuffle(shuffled, random);
    RendezvousPlacement placement = rendezvous(512, 2);
    assertThat(placement.assign(null, shuffled).table())
        .isEqualTo(placement.assign(null, members).table());
  }

  @Property(tries = 50)
  void owners_distinctAndSpreadOverZones(
      @ForAll long seed, @ForAll @IntRange(min = 2, max = 4) int replicas) {
    Random random = new Random(seed);
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 1 + random.nextInt(20); i++) {
      members.add(Member.of("m" + i, 1, "z" + random.nextInt(4)));
    }
    BalancedPlacementTest.checkOwners(rendezvous(128, replicas).assign(null, members));
  }

  @Test
  void weights_shareInProportion() {
    List<Member> members = List.of(Member.of("a", 1), Member.of("b", 3));
    Assignment a = rendezvous(1 << 14, 1).assign(null, members);
    assertThat(a.primaryCount("b") / (double) (1 << 14)).isBetween(0.72, 0.78);
  }

  static RendezvousPlacement rendezvous(int partitions, int replicas) {
    return (RendezvousPlacement)
        Placement.newBuilder()
            .strategy(Strategy.RENDEZVOUS)
            .partitions(partitions)
            .replicas(replicas)
            .build();
  }
}
