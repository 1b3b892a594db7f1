package io.ringwork.rebalancer.issues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 23: a drain asked for after the member's session was lost waited out its whole timeout,
 * though a lost session has nothing to hand over.
 */
final class Issue23DrainTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  @Test
  void drain_afterTheSessionIsLost_returnsFalseAtOnce() throws Exception {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of("w1"))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(2))
            .partitions(16)
            .build();
    try {
      r.start();
      assertThat(r.awaitStable(RingworkZooKeeper.scaled(Duration.ofSeconds(20)))).isTrue();
      zk.skipLeakCheck(); // the server goes away under the member
      zk.stopServer();
      await()
          .atMost(RingworkZooKeeper.scaled(Duration.ofSeconds(30)))
          .until(() -> r.state() == Rebalancer.State.LOST);
      long t0 = System.nanoTime();
      assertThat(r.drain(Duration.ofSeconds(60))).isFalse();
      // Before: the whole 60 s. What is left is the lock service's bounded close (5 s); 20 s is
      // the margin for a loaded machine.
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
      assertThat(r.state()).isEqualTo(Rebalancer.State.CLOSED);
    } finally {
      r.close();
    }
  }
}
