package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class StrategyTest {

  @Test
  void parse_readsEveryConfigName_ignoringCaseAndBlanks() {
    for (Strategy s : Strategy.values()) {
      assertThat(Strategy.parse(s.configName())).isSameAs(s);
      assertThat(s.toString()).isEqualTo(s.configName());
    }
    assertThat(Strategy.parse(" Rendezvous ")).isSameAs(Strategy.RENDEZVOUS);
    assertThat(Strategy.parse("TOOZ")).isSameAs(Strategy.TOOZ);
  }

  @Test
  void parse_unknownName_namesTheValueAndTheAcceptedOnes() {
    assertThatThrownBy(() -> Strategy.parse("maglev"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown strategy 'maglev', expected one of [balanced, rendezvous, tooz]");
    assertThatThrownBy(() -> Strategy.parse(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("strategy");
  }

  @Test
  void defaultPartitions_andPartitioned() {
    assertThat(Strategy.BALANCED.defaultPartitions()).isEqualTo(4096);
    assertThat(Strategy.RENDEZVOUS.defaultPartitions()).isEqualTo(4096);
    assertThat(Strategy.TOOZ.defaultPartitions()).isEqualTo(32);
    assertThat(Strategy.BALANCED.partitioned()).isTrue();
    assertThat(Strategy.RENDEZVOUS.partitioned()).isTrue();
    assertThat(Strategy.TOOZ.partitioned()).isFalse();
  }
}
