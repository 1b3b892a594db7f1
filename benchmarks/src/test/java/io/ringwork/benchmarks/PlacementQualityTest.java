package io.ringwork.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.ringwork.benchmarks.peers.PlacementCase;
import io.ringwork.ring.Member;
import java.util.List;
import org.junit.jupiter.api.Test;

final class PlacementQualityTest {

  private static final Member A = Member.of("a");
  private static final Member B = Member.of("b");
  private static final Member C = Member.of("c");

  @Test
  void measure_leaveOfAnImbalancedTable_countsDepartedPartitionsAsTheOptimum() {
    // a holds 4, b 3, c 1 of 8; c leaves, so a and b should hold 4 each.
    PlacementCase c =
        new PlacementCase(
            8,
            List.of(A, B, C),
            new String[] {"a", "a", "a", "a", "b", "b", "b", "c"},
            List.of(A, B));
    // Partition 3 moves needlessly from a to b; partition 7 must move.
    PlacementQuality.Quality q =
        PlacementQuality.measure(c, new String[] {"a", "a", "a", "b", "b", "b", "b", "b"});
    assertThat(q.moved()).isEqualTo(2);
    assertThat(q.optimum()).isEqualTo(1);
    assertThat(q.minimum()).isEqualTo(1);
    assertThat(q.peak()).isCloseTo(5 / 4.0, within(1e-9));
    assertThat(q.min()).isCloseTo(3 / 4.0, within(1e-9));
  }

  @Test
  void measure_joinWhoseQuotaGivesTheJoinerTheExtra_minimumIsBelowTheOptimum() {
    // 8 over 3 is 2 rem 2: the quotas give the extra partitions to the first ids, "0" and "a",
    // so b must shed 2; a placement free to pick b over "0" for the extra sheds only 2 in all.
    Member joiner = Member.of("0");
    PlacementCase c =
        new PlacementCase(
            8,
            List.of(A, B),
            new String[] {"a", "a", "a", "a", "b", "b", "b", "b"},
            List.of(A, B, joiner));
    PlacementQuality.Quality q =
        PlacementQuality.measure(c, new String[] {"a", "a", "a", "0", "b", "b", "b", "0"});
    assertThat(q.moved()).isEqualTo(2);
    assertThat(q.optimum()).isEqualTo(3);
    assertThat(q.minimum()).isEqualTo(2);
    assertThat(q.peak()).isCloseTo(3 / (8 / 3.0), within(1e-9));
    assertThat(q.min()).isCloseTo(2 / (8 / 3.0), within(1e-9));
  }

  @Test
  void measure_fullComputation_movesNothing() {
    PlacementCase c = new PlacementCase(4, null, null, List.of(A, B));
    PlacementQuality.Quality q = PlacementQuality.measure(c, new String[] {"a", "b", "a", "a"});
    assertThat(q.moved()).isZero();
    assertThat(q.optimum()).isZero();
    assertThat(q.peak()).isCloseTo(1.5, within(1e-9));
  }

  @Test
  void measure_unownedOrDepartedOwner_throws() {
    PlacementCase c = new PlacementCase(2, null, null, List.of(A, B));
    assertThatThrownBy(() -> PlacementQuality.measure(c, new String[] {"a", null}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("partition 1");
    assertThatThrownBy(() -> PlacementQuality.measure(c, new String[] {"a", "c"}))
        .hasMessageContaining("'c'");
  }
}
