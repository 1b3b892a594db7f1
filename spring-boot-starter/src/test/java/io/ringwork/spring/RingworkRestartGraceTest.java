package io.ringwork.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.test.RingworkZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * {@code ringwork.restart-grace}: an application that shuts down leaves for a restart instead of
 * draining, so its partitions stay reserved for its id and nobody else is given them (issue 19).
 */
final class RingworkRestartGraceTest {

  private static final Duration STABLE = Duration.ofSeconds(30);

  @RegisterExtension static final RingworkZooKeeper zk = RingworkZooKeeper.embedded();

  private static ConfigurableApplicationContext app(String id) {
    return new SpringApplicationBuilder(App.class)
        .web(WebApplicationType.NONE)
        .properties(
            "ringwork.connect=" + zk.connectString(),
            "ringwork.group=grace",
            "ringwork.id=" + id,
            "ringwork.partitions=32",
            "ringwork.session-timeout=6s",
            "ringwork.restart-grace=1m",
            "spring.main.banner-mode=off")
        .run();
  }

  @Test
  void shutdown_leavesForARestart_itsPartitionsStayReservedUntilItIsBack() throws Exception {
    try (ConfigurableApplicationContext a = app("a")) {
      Rebalancer ra = a.getBean(Rebalancer.class);
      ConfigurableApplicationContext b = app("b");
      Rebalancer rb = b.getBean(Rebalancer.class);
      await()
          .atMost(STABLE)
          .until(() -> ra.ownedPartitions().size() == 16 && rb.ownedPartitions().size() == 16);
      Set<Integer> reserved = rb.ownedPartitions();
      b.close(); // leaves for a restart, not a drain
      assertThat(rb.state()).isEqualTo(Rebalancer.State.CLOSED);
      try (CuratorFramework client =
          CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100))) {
        client.start();
        assertThat(
                new String(
                    client.getData().forPath("/ringwork/grace/fleet/reservations/b"),
                    StandardCharsets.UTF_8))
            .contains("\"state\":\"restarting\"");
      }
      assertThat(ra.awaitStable(STABLE)).isTrue();
      assertThat(ra.ownedPartitions()).hasSize(16).doesNotContainAnyElementsOf(reserved);
      try (ConfigurableApplicationContext back = app("b")) {
        Rebalancer again = back.getBean(Rebalancer.class);
        await().atMost(STABLE).until(() -> again.ownedPartitions().equals(reserved));
        assertThat(ra.ownedPartitions()).hasSize(16);
      }
    }
  }

  /** A service that only embeds the member (no component scan). */
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {}
}
