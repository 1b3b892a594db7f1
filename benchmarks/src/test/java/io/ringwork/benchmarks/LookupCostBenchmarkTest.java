package io.ringwork.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.ring.Partitioner;
import java.util.List;
import org.junit.jupiter.api.Test;

final class LookupCostBenchmarkTest {

  @Test
  void proposedHash_matchesRingsHashForAnyString() {
    List<String> keys =
        List.of(
            "",
            "node-1",
            "c0ffee00-1234-5678-9abc-def012345678",
            "ünïcödé",
            "€ sign",
            "emoji \uD83D\uDE00 pair",
            "lone \uD800 high",
            "lone \uDC00 low",
            "x".repeat(300) + "é");
    for (String key : keys) {
      assertThat(LookupCostBenchmark.proposedHash(key, 0, key.length()))
          .as(key)
          .isEqualTo(Partitioner.hash(key));
    }
    String prefixed = "stack-9/nested/1";
    assertThat(LookupCostBenchmark.proposedHash(prefixed, 0, 7))
        .isEqualTo(Partitioner.hash("stack-9"));
  }
}
