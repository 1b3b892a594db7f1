package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.membership.ZooKeeperExtension;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 10: a membership change costs O(N) ZooKeeper packets, because members never watch each
 * other's acknowledgements. At N = 100 a join or a leave must cost at most 12 packets per member
 * (the old protocol cost about 4·N per member, 40,000 here).
 */
final class ScaleTest {

  private static final int N = 100;

  @RegisterExtension final ZooKeeperExtension zk = ZooKeeperExtension.server();

  @ParameterizedTest
  @ValueSource(strings = {"balanced", "rendezvous", "tooz"})
  void joinAndLeave_atHundredMembers_linearPackets(String strategy) throws Exception {
    try (Scale group =
        new Scale(
            zk.testingServer(),
            strategy,
            strategy.equals("tooz") ? 32 : 1024,
            Duration.ofSeconds(4))) {
      group.startAll(N, Duration.ofSeconds(120));
      Scale.Change join = group.join(Duration.ofSeconds(60));
      Scale.Change leave = group.leave(Duration.ofSeconds(60));
      System.out.printf(
          "%s N=%d: join %d packets sent (%.1f per member), leave %d (%.1f per member)%n",
          strategy,
          N,
          join.packetsSent(),
          join.packetsSent() / (double) N,
          leave.packetsSent(),
          leave.packetsSent() / (double) N);
      assertThat(join.packetsSent()).isLessThanOrEqualTo(12L * N);
      assertThat(leave.packetsSent()).isLessThanOrEqualTo(12L * N);
    }
  }
}
