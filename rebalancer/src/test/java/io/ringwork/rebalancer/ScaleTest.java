package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 10: a membership change costs O(N) ZooKeeper packets, because members never watch each
 * other's acknowledgements. At N = 100 a join or a leave must cost at most 12 packets per member
 * (the old protocol cost about 4·N per member, 40,000 here).
 *
 * <p>The server's packet counter also counts what every member sends while nothing changes (pings,
 * and the lease's {@code sync} every T/5): 125 packets a second at N = 100 with a 4 s session, so a
 * join that takes 5 s on a loaded machine counted 1,396 packets although it caused fewer than 900.
 * The test therefore uses a 30 s session (a renewal every 6 s) and subtracts the background rate
 * measured over an idle window just before, and bounds what the change caused.
 */
final class ScaleTest {

  private static final int N = 100;

  @ParameterizedTest
  @ValueSource(strings = {"balanced", "rendezvous", "tooz"})
  void joinAndLeave_atHundredMembers_linearPackets(String strategy) throws Exception {
    try (TestingServer server = Scale.server();
        Scale group =
            new Scale(
                server, strategy, strategy.equals("tooz") ? 32 : 1024, Duration.ofSeconds(30))) {
      group.startAll(N, Duration.ofSeconds(120));
      double idle = group.idlePacketsPerSecond(Duration.ofSeconds(2));
      Scale.Change join = group.join(Duration.ofSeconds(60));
      double idleAfterJoin = group.idlePacketsPerSecond(Duration.ofSeconds(2));
      Scale.Change leave = group.leave(Duration.ofSeconds(60));
      long joinCaused = caused(join, idle);
      long leaveCaused = caused(leave, idleAfterJoin);
      System.out.printf(
          "%s N=%d: join %d packets sent, %d caused (%.1f per member), leave %d, %d caused (%.1f"
              + " per member); idle %.0f/s%n",
          strategy,
          N,
          join.packetsSent(),
          joinCaused,
          joinCaused / (double) N,
          leave.packetsSent(),
          leaveCaused,
          leaveCaused / (double) N,
          idle);
      assertThat(joinCaused).isLessThanOrEqualTo(12L * N);
      assertThat(leaveCaused).isLessThanOrEqualTo(12L * N);
    }
  }

  /** The packets of a change less the background the same span carries when nothing changes. */
  private static long caused(Scale.Change change, double idlePerSecond) {
    return Math.round(change.packetsSent() - idlePerSecond * change.nanos() / 1e9);
  }
}
