package io.ringwork.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class LookupCostBenchmarkTest {

  @Test
  void everyLookupMethod_namesTheSameOwner() {
    // Each call advances its own instance to the next key: three instances stay in step.
    LookupCostBenchmark ids = new LookupCostBenchmark();
    ids.setUp();
    LookupCostBenchmark bytes = new LookupCostBenchmark();
    bytes.setUp();
    LookupCostBenchmark members = new LookupCostBenchmark();
    members.setUp();
    for (int i = 0; i < 1000; i++) {
      String expected = members.lookup().id();
      assertThat(ids.lookupPrimaryId()).isEqualTo(expected);
      assertThat(bytes.lookupBytes()).isEqualTo(expected);
    }
  }

  @Test
  void hashViaChars_hashesAsRing() {
    LookupCostBenchmark ring = new LookupCostBenchmark();
    ring.setUp();
    LookupCostBenchmark chars = new LookupCostBenchmark();
    chars.setUp();
    for (int i = 0; i < 1000; i++) {
      assertThat(chars.hashViaChars()).isEqualTo(ring.hashString());
    }
  }
}
