package io.ringwork.benchmarks.peers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.ring.Member;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class PeersTest {

  private static final List<Member> MEMBERS =
      List.of(Member.of("a"), Member.of("b"), Member.of("c"));

  @Test
  void everyKeyRing_returnsAMemberAndSpreadsKeys() {
    for (String name : KeyRing.NAMES) {
      KeyRing ring = KeyRing.create(name, MEMBERS, 1024);
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < 3000; i++) {
        String owner = ring.owner("key-" + i);
        assertThat(owner).as(name).isIn("a", "b", "c");
        seen.add(owner);
        assertThat(ring.owner("key-" + i)).as("%s is deterministic", name).isEqualTo(owner);
      }
      assertThat(seen).as(name).hasSize(3);
    }
    assertThatThrownBy(() -> KeyRing.create("nope", MEMBERS, 16))
        .hasMessageContaining("unknown ring 'nope'");
  }

  @Test
  void toozPeer_matchesToozVectors() {
    KeyRing tooz =
        KeyRing.create("tooz", List.of(Member.of("foo"), Member.of("bar"), Member.of("baz")), 16);
    assertThat(tooz.owner("fake")).isEqualTo("foo");
    assertThat(tooz.owner("1234")).isEqualTo("baz");
  }

  @Test
  void everyPlacer_assignsEveryPartitionToALiveMember() {
    for (String op : PlacementCase.OPERATIONS) {
      PlacementCase c = PlacementCase.of(30, 512, op);
      Set<String> live = new HashSet<>();
      c.after().forEach(m -> live.add(m.id()));
      for (String name : Placer.NAMES) {
        Placer peer = Placer.create(name);
        String[] owners = peer.owners(peer.compute(peer.prepare(c)), c);
        assertThat(owners).as("%s %s", name, op).hasSize(512).allMatch(live::contains);
      }
    }
  }

  @Test
  void quality_balancedMovesExactlyTheOptimum_onAHandMadeCase() {
    PlacementCase c = PlacementCase.of(4, 16, "leave");
    // 4 members of 4 partitions each; one leaves: its 4 move, nobody else's.
    Placer balanced = Placer.create("balanced");
    String[] owners = balanced.owners(balanced.compute(balanced.prepare(c)), c);
    var q = io.ringwork.benchmarks.PlacementQualityAccess.measure(c, owners);
    assertThat(q.moved()).isEqualTo(4);
    assertThat(q.optimum()).isEqualTo(4);
    assertThat(q.peak()).isLessThanOrEqualTo(6 / (16 / 3.0));
  }
}
