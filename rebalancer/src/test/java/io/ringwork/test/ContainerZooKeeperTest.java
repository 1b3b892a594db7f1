package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The Testcontainers backend behind the same extension. It needs Docker, so it is disabled where
 * there is none (as on the machine that builds this project); every behaviour it shows is also
 * tested against the embedded backend in {@link RingworkZooKeeperTest}.
 */
@Testcontainers(disabledWithoutDocker = true)
final class ContainerZooKeeperTest {

  @RegisterExtension
  static final RingworkZooKeeper zk = RingworkZooKeeper.container("zookeeper:3.9");

  @Test
  void rebalancerOnAContainerServer_stableThenSurvivesAPause() throws Exception {
    try (Rebalancer r =
        Rebalancer.newBuilder()
            .group("c")
            .member(Member.of("c-1"))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(10))
            .partitions(16)
            .build()) {
      r.start();
      assertThat(r.awaitStable(Duration.ofSeconds(60))).isTrue();
      zk.stopServer();
      zk.restartServer();
      assertThat(r.awaitStable(Duration.ofSeconds(60))).isTrue();
    }
  }
}
