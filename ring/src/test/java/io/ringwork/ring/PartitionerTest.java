package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

final class PartitionerTest {

  /** Vectors from the reference implementation: {@code printf '%s' KEY | xxhsum -H3}. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''|2d06800538d394c2",
        "a|e6c632b61e964e1f",
        "node-1|0db09edfd9458385",
        "stack-1|44a28db3a35e933c",
        "550e8400-e29b-41d4-a716-446655440000|05dac8bdcc9c8ac3",
        "héllo wörld ☃ 𝄞|cb23e2f02709e3ed",
        "abcdefghijklmnopqrstuvwxyz0123456789|1173f34a884ae63c",
      })
  void hash_referenceVectors_matchXxh3(String key, String hex) {
    assertThat(Partitioner.hash(key)).isEqualTo(Long.parseUnsignedLong(hex, 16));
  }

  @Test
  void hash_longKeys_matchXxh3() {
    assertThat(Partitioner.hash("x".repeat(300)))
        .isEqualTo(Long.parseUnsignedLong("a5d1b4607dc83554", 16));
    assertThat(Partitioner.hash("ab".repeat(64)))
        .isEqualTo(Long.parseUnsignedLong("fedbb99f86065dd6", 16));
  }

  @Test
  void partition_topBits_pinned() {
    // 0x0db09edfd9458385 >>> 52 = 0x0db = 219; >>> 48 = 0x0db0 = 3504.
    assertThat(Partitioner.of(4096).partition("node-1")).isEqualTo(219);
    assertThat(Partitioner.of(65536).partition("node-1")).isEqualTo(3504);
    assertThat(Partitioner.of(2).partition("node-1")).isZero();
    assertThat(Partitioner.of(2).partition("héllo wörld ☃ 𝄞")).isEqualTo(1);
    assertThat(Partitioner.of(1).partition("anything")).isZero();
    assertThat(Partitioner.of(1 << 24).partition("a")).isEqualTo(0xe6c632);
  }

  @Test
  void upTo_nestedKeys_shareTheirStacksPartition() {
    Partitioner p = Partitioner.of(1 << 16, KeyRouter.upTo('/'));
    assertThat(p.partition("stack-1/nested/a")).isEqualTo(p.partition("stack-1"));
    assertThat(p.partition("stack-1/nested/b")).isEqualTo(p.partition("stack-1"));
    assertThat(p.partition("stack-1")).isEqualTo(Partitioner.of(1 << 16).partition("stack-1"));
    Partitioner colon = Partitioner.of(1 << 16, KeyRouter.upTo(':'));
    assertThat(colon.partition("vol-9:delete")).isEqualTo(colon.partition("vol-9"));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, 3, 12, 1 << 25, Integer.MAX_VALUE})
  void of_badPartitionCount_namesTheValue(int partitions) {
    assertThatThrownBy(() -> Partitioner.of(partitions))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("power of two")
        .hasMessageContaining("got " + partitions);
  }

  @Property
  void hash_anyString_equalsHashOfGetBytesUtf8(@ForAll @StringLength(max = 100) String key) {
    assertThat(Partitioner.hash(key))
        .isEqualTo(Partitioner.hash(key.getBytes(StandardCharsets.UTF_8)));
  }

  @Property
  void partition_doublingP_splitsEachPartitionInTwo(
      @ForAll String key, @ForAll @IntRange(min = 0, max = 23) int bits) {
    int small = Partitioner.of(1 << bits).partition(key);
    int large = Partitioner.of(1 << (bits + 1)).partition(key);
    assertThat(large >>> 1).isEqualTo(small);
  }

  @Property
  void partition_upTo_routesOnThePrefix(
      @ForAll @StringLength(max = 20) String stack, @ForAll @StringLength(max = 20) String rest) {
    String prefix = stack.replace("/", "");
    Partitioner p = Partitioner.of(4096, KeyRouter.upTo('/'));
    assertThat(p.partition(prefix + "/" + rest)).isEqualTo(Partitioner.of(4096).partition(prefix));
  }

  @Property
  void partition_isInRange(@ForAll String key, @ForAll @IntRange(min = 0, max = 24) int bits) {
    assertThat(Partitioner.of(1 << bits).partition(key)).isBetween(0, (1 << bits) - 1);
  }
}
