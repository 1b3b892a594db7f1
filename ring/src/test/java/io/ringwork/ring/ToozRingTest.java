package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** Parity with tooz's own test vectors (tooz/tests/test_hashring.py). */
final class ToozRingTest {

  private static final List<Member> FOO_BAR_BAZ =
      List.of(Member.of("foo"), Member.of("bar"), Member.of("baz"));

  private final ToozRing ring = ToozRing.of(FOO_BAR_BAZ, 32, 1);

  @Test
  void owners_toozVectors_match() {
    assertThat(ids(ring.owners("fake"))).containsExactly("foo");
    assertThat(ids(ring.owners("fake", 2, Set.of()))).containsExactlyInAnyOrder("bar", "foo");
    assertThat(ids(ring.owners("fake", 1, Set.of("foo")))).containsExactly("bar");
    assertThat(ids(ring.owners("fake-again"))).containsExactly("bar");
    assertThat(ids(ring.owners("1234"))).containsExactly("baz");
    assertThat(ring.primary("fake").id()).isEqualTo("foo");
  }

  @Test
  void owners_moreReplicasThanCandidates_returnsEveryCandidateOnce() {
    assertThat(ids(ring.owners("fake", 5, Set.of())))
        .containsExactlyInAnyOrder("foo", "bar", "baz");
    assertThat(ids(ring.owners("fake", 5, Set.of("bar")))).containsExactlyInAnyOrder("foo", "baz");
    assertThat(ring.owners("fake", 2, Set.of("foo", "bar", "baz"))).isEmpty();
  }

  @Test
  void points_perNodeTimesWeight() {
    assertThat(ring.points()).isEqualTo(96);
    ToozRing weighted = ToozRing.of(List.of(Member.of("a", 3), Member.of("b")), 32, 1);
    assertThat(weighted.points()).isEqualTo(128);
  }

  @Test
  void weights_shareKeysInProportion() {
    ToozRing weighted = ToozRing.of(List.of(Member.of("a", 3), Member.of("b")), 32, 1);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      counts.merge(weighted.primary("key-" + i).id(), 1, Integer::sum);
    }
    assertThat(counts.get("a") / 20_000.0).isBetween(0.6, 0.9);
  }

  @Test
  void weight_fractionalOrZero_rejected() {
    assertThatThrownBy(() -> ToozRing.of(List.of(Member.of("a", 1.5)), 32, 1))
        .hasMessageContaining("whole number")
        .hasMessageContaining("1.5")
        .hasMessageContaining("'a'");
    assertThatThrownBy(() -> Member.of("a", 0)).hasMessageContaining("positive");
  }

  @Test
  void placement_tooz_buildsTheSameRing() {
    Ring viaPlacement =
        Placement.newBuilder()
            .strategy(Strategy.TOOZ)
            .build()
            .place(null, new ArrayList<>(FOO_BAR_BAZ));
    assertThat(viaPlacement).isInstanceOf(ToozRing.class);
    assertThat(viaPlacement.primary("1234").id()).isEqualTo("baz");
    assertThat(viaPlacement.strategy()).isEqualTo(Strategy.TOOZ);
  }

  @Property(tries = 200)
  void primary_isFirstOfOwners_andOwnersAreDistinct(@ForAll String key) {
    ToozRing three = ToozRing.of(FOO_BAR_BAZ, 32, 3);
    List<Member> owners = three.owners(key);
    assertThat(owners).hasSize(3).doesNotHaveDuplicates();
    assertThat(owners.get(0)).isEqualTo(three.primary(key));
  }

  private static List<String> ids(List<Member> members) {
    return members.stream().map(Member::id).collect(Collectors.toList());
  }
}
