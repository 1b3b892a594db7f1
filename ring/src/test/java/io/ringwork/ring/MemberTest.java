package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class MemberTest {

  @Test
  void of_validFields_keepsThem() {
    Member m =
        new Member("c-1", 2.5, Optional.of("az-b"), new TreeSet<>(List.of("hw=ipmi", "g=a")));
    assertThat(m.id()).isEqualTo("c-1");
    assertThat(m.weight()).isEqualTo(2.5);
    assertThat(m.zone()).contains("az-b");
    assertThat(m.labels()).containsExactly("g=a", "hw=ipmi");
    assertThat(m.hasLabels(List.of("g=a"))).isTrue();
    assertThat(m.hasLabels(List.of("g=b"))).isFalse();
    assertThat(Member.of("x").weight()).isEqualTo(Member.DEFAULT_WEIGHT);
  }

  @Test
  void labels_areImmutable() {
    Member m = Member.of("c-1").withLabels(List.of("a"));
    assertThatThrownBy(() -> m.labels().add("b")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void id_empty_rejected() {
    assertThatThrownBy(() -> Member.of("")).hasMessage("member id must not be empty");
  }

  @Test
  void id_tooLong_rejectedWithLength() {
    assertThatThrownBy(() -> Member.of("x".repeat(256)))
        .hasMessageContaining("at most 255 characters, got 256");
    assertThat(Member.of("x".repeat(255)).id()).hasSize(255);
  }

  @Test
  void id_withSlash_rejectedWithIndex() {
    assertThatThrownBy(() -> Member.of("a/b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not contain '/'")
        .hasMessageContaining("'a/b'")
        .hasMessageContaining("index 1");
  }

  @Test
  void id_withControlCharacter_rejectedAndShownEscaped() {
    assertThatThrownBy(() -> Member.of("a\nb"))
        .hasMessageContaining("control characters")
        .hasMessageContaining("U+000A")
        .hasMessageContaining("a\\u000ab");
  }

  @ParameterizedTest
  @ValueSource(doubles = {0, -1, Double.NaN, Double.POSITIVE_INFINITY})
  void weight_notPositiveFinite_rejectedNamingMember(double weight) {
    assertThatThrownBy(() -> Member.of("c-3", weight))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("weight must be positive and finite, got " + weight + " for member 'c-3'");
  }

  @Test
  void weight_aboveMax_rejectedNamingMemberAndBound() {
    assertThatThrownBy(() -> Member.of("c-3", 1e308))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("for member 'c-3'")
        .hasMessageContaining("at most 1.0E12");
    assertThat(Member.of("c-3", Member.MAX_WEIGHT).weight()).isEqualTo(1e12);
  }

  @Test
  void zone_empty_rejected() {
    assertThatThrownBy(() -> Member.of("c-1", 1, ""))
        .hasMessage("zone must not be empty for member 'c-1'");
  }
}
