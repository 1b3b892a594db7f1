package io.ringwork.lock;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.test.RingworkZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fault scenario of {@link LockFaults}, short: no stale write accepted, nothing left behind.
 */
final class LockFaultsTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  @Test
  void expiryAndBreak_staleHolderFenced_noOrphans() throws Exception {
    LockFaults.Report r = LockFaults.run(zk.connectString(), 20, 500);
    assertThat(r.staleAccepted()).isZero();
    assertThat(r.freshRejected()).isZero();
    assertThat(r.expiries()).isEqualTo(10);
    assertThat(r.breaks()).isEqualTo(10);
    assertThat(r.timeouts()).isEqualTo(500);
    assertThat(r.orphans()).isZero();
  }
}
