package io.ringwork.simulator.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's ledger counts, in SQL, the stale writes it accepted, from the tokens issued. */
final class DemoLedgerTest {

  private static DemoLedger ledger(String name) throws Exception {
    return DemoLedger.create(
        "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1",
        Map.of(0, List.of("a", "b"), 1, List.of("c")));
  }

  @Test
  void staleWrite_beforeTheSuccessorsFirstWrite_isAcceptedAndCounted() throws Exception {
    DemoLedger ledger = ledger("stale-counted");
    try (DemoLedger.Writer w = ledger.new Writer()) {
      w.issuedPartition(0, 10);
      assertThat(w.write("a", "w1", 10, true)).isTrue();
      w.issuedPartition(0, 20); // partition 0 moved to w2, which has not written "a" yet
      assertThat(w.write("a", "w1", 10, true)).isTrue(); // the fence cannot see it: stale
      assertThat(w.write("b", "w1", 10, true)).isTrue(); // another key of partition 0: stale
      assertThat(w.write("c", "w1", 10, true)).isTrue(); // partition 1: nothing higher issued
      assertThat(w.write("a", "w2", 20, true)).isTrue();
      assertThat(w.write("a", "w1", 10, true)).isFalse(); // now it can
    }
    assertThat(ledger.staleAccepted()).isEqualTo(2);
    assertThat(ledger.rejected.get()).isEqualTo(1);
    assertThat(ledger.staleRows())
        .containsExactly(
            "a: 1 stale write(s) accepted; now owner w2, token 20, highest issued 20",
            "b: 1 stale write(s) accepted; now owner w1, token 10, highest issued 20");
  }

  @Test
  void lockWrite_isComparedWithItsKeysTokensOnly() throws Exception {
    DemoLedger ledger = ledger("lock-key-only");
    try (DemoLedger.Writer w = ledger.new Writer()) {
      w.issuedPartition(0, 30); // a grant made while the lock below was queued
      w.issuedKey("a", 25);
      assertThat(w.write("a", "api", 25, false)).isTrue(); // the lock rightly holds "a"
      assertThat(ledger.staleAccepted()).isZero();
      w.issuedKey("a", 40); // a later lock on "a"
      assertThat(w.write("a", "api", 25, false)).isTrue(); // the earlier lock wrote again: stale
      assertThat(w.write("a", "w2", 30, true)).isTrue(); // the owner's fast path below it: stale
    }
    assertThat(ledger.staleAccepted()).isEqualTo(2);
  }
}
