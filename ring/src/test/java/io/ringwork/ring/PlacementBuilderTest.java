package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

final class PlacementBuilderTest {

  @Test
  void defaults_balancedOver4096() {
    PartitionPlacement p = Placement.newBuilder().buildPartitioned();
    assertThat(p.strategy()).isEqualTo(Strategy.BALANCED);
    assertThat(p.partitioner().partitions()).isEqualTo(4096);
    assertThat(p.replicas()).isEqualTo(1);
    assertThatThrownBy(() -> Placement.newBuilder().strategy(Strategy.TOOZ).buildPartitioned())
        .hasMessageContaining("no partitions");
  }

  @Test
  void strategy_buildsThatStrategy() {
    for (Strategy s : Strategy.values()) {
      Placement built = Placement.newBuilder().strategy(s).build();
      assertThat(built.strategy()).isEqualTo(s);
      assertThat(built.place(null, List.of(Member.of("a"))).strategy()).isEqualTo(s);
    }
  }

  @Test
  void partitionCounts_defaultPerStrategy() {
    assertThat(
            Placement.newBuilder()
                .strategy(Strategy.RENDEZVOUS)
                .buildPartitioned()
                .partitioner()
                .partitions())
        .isEqualTo(Strategy.RENDEZVOUS.defaultPartitions())
        .isEqualTo(Placement.Builder.DEFAULT_PARTITIONS);
    Ring tooz =
        Placement.newBuilder()
            .strategy(Strategy.TOOZ)
            .build()
            .place(null, List.of(Member.of("a"), Member.of("b")));
    assertThat(((ToozRing) tooz).points()).isEqualTo(2 * Strategy.TOOZ.defaultPartitions());
  }

  @Test
  void badSettings_clearErrors() {
    assertThatThrownBy(() -> Placement.newBuilder().strategy(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("strategy");
    assertThatThrownBy(() -> Placement.newBuilder().replicas(0))
        .hasMessage("replicas must be at least 1, got 0");
    assertThatThrownBy(() -> Placement.newBuilder().partitions(0))
        .hasMessage("partitions must be at least 1, got 0");
    assertThatThrownBy(() -> Placement.newBuilder().partitions(1000).build())
        .hasMessageContaining("power of two")
        .hasMessageContaining("1000");
    assertThatThrownBy(() -> Placement.newBuilder().maxMovesPerStep(0))
        .hasMessage("maxMovesPerStep must be at least 1, got 0");
    assertThatThrownBy(
            () -> Placement.newBuilder().strategy(Strategy.RENDEZVOUS).maxMovesPerStep(5).build())
        .hasMessageContaining("only to the balanced strategy");
    assertThatThrownBy(
            () ->
                Placement.newBuilder().strategy(Strategy.TOOZ).router(KeyRouter.upTo('/')).build())
        .hasMessageContaining("router does not apply to the tooz strategy");
  }

  @Test
  void setters_refuseBeingSetTwice() {
    assertThatThrownBy(() -> Placement.newBuilder().partitions(16).partitions(32))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("partitions was already set");
    assertThatThrownBy(
            () -> Placement.newBuilder().strategy(Strategy.TOOZ).strategy(Strategy.BALANCED))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void tooz_partitionsArePointsPerNode() {
    Ring ring =
        Placement.newBuilder()
            .strategy(Strategy.TOOZ)
            .partitions(100)
            .build()
            .place(null, List.of(Member.of("a"), Member.of("b")));
    assertThat(((ToozRing) ring).points()).isEqualTo(200);
  }

  @Test
  void place_fromAnotherStrategysRing_rejected() {
    Ring tooz =
        Placement.newBuilder().strategy(Strategy.TOOZ).build().place(null, List.of(Member.of("a")));
    assertThatThrownBy(() -> Placement.newBuilder().build().place(tooz, List.of(Member.of("a"))))
        .hasMessageContaining("continues from an Assignment");
  }
}
