package io.ringwork.simulator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

final class PartitionRangesTest {

  @Test
  void format_runsAndSingles() {
    assertThat(PartitionRanges.format(List.of(0, 1, 2, 3, 128, 129, 200)))
        .isEqualTo("0-3,128-129,200");
    assertThat(PartitionRanges.format(List.of(5, 3, 4))).isEqualTo("3-5");
    assertThat(PartitionRanges.format(List.of())).isEmpty();
    assertThat(PartitionRanges.format(List.of(-1))).isEqualTo("-1"); // tooz's pseudo-partition
  }

  @Test
  void parse_undoesFormat_forRandomSets() {
    Random random = new Random(7);
    for (int run = 0; run < 200; run++) {
      TreeSet<Integer> set = new TreeSet<>();
      int n = random.nextInt(300);
      for (int i = 0; i < n; i++) {
        set.add(random.nextInt(4096));
      }
      assertThat(PartitionRanges.parse(PartitionRanges.format(set)))
          .isEqualTo(new ArrayList<>(set));
    }
    assertThat(PartitionRanges.parse("-1")).containsExactly(-1);
  }

  @Test
  void parse_badItems_nameTheItem() {
    assertThatThrownBy(() -> PartitionRanges.parse("0-3,x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'x'");
    assertThatThrownBy(() -> PartitionRanges.parse("5-3"))
        .hasMessageContaining("ends before it starts");
    assertThatThrownBy(() -> PartitionRanges.parse("4,2")).hasMessageContaining("not ascending");
  }
}
