package io.ringwork.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Whole applications against a real embedded ZooKeeper: this test's context and a second one
 * started beside it share the group's work; the second one closes and drains; readiness follows a
 * dropped connection.
 */
@SpringBootTest(
    classes = RingworkSpringBootTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.NONE,
    properties = {
      "ringwork.group=boot",
      "ringwork.id=a",
      "ringwork.partitions=32",
      "ringwork.session-timeout=6s",
      "ringwork.drain-timeout=15s"
    })
@DirtiesContext
final class RingworkSpringBootTest {

  private static final Duration STABLE = Duration.ofSeconds(30);

  @RegisterExtension static final RingworkZooKeeper zk = RingworkZooKeeper.embedded();

  @DynamicPropertySource
  static void zooKeeper(DynamicPropertyRegistry registry) {
    registry.add("ringwork.connect", zk::connectString);
  }

  @Autowired Rebalancer rebalancer;
  @Autowired ApplicationAvailability availability;
  @Autowired MeterRegistry meters;
  @Autowired App app;

  @Test
  void twoApplications_shareWork_thenOneDrainsAndReadinessFollowsTheConnection() throws Exception {
    assertThat(rebalancer.awaitStable(STABLE)).isTrue();
    assertThat(rebalancer.ownedPartitions()).hasSize(32);
    await().atMost(STABLE).until(() -> "UP".equals(HealthOf.endpointStatus(context)));

    try {
      try (ConfigurableApplicationContext b = second("b")) {
        shareThenDrain(b);
      }
      readinessFollowsTheConnection();
    } finally {
      // Drain now, while the server is up, rather than in a shutdown hook after it has gone.
      context.getBean(RingworkLifecycle.class).stop();
    }
    assertThat(rebalancer.state()).isEqualTo(Rebalancer.State.CLOSED);
  }

  private void shareThenDrain(ConfigurableApplicationContext b) {
    Rebalancer other = b.getBean(Rebalancer.class);
    await()
        .atMost(STABLE)
        .until(
            () ->
                rebalancer.ownedPartitions().size() == 16
                    && other.ownedPartitions().size() == 16
                    && rebalancer.state() == Rebalancer.State.STABLE);
    assertThat(meters.get("ringwork.partitions.owned").tag("member", "a").gauge().value())
        .isEqualTo(16);

    app.revoked.clear(); // b's join took half of a's partitions; from here on a loses none
    Set<Integer> handedOver = other.ownedPartitions();
    RingworkLifecycle lifecycle = b.getBean(RingworkLifecycle.class);
    long drainStart = System.nanoTime();
    b.close(); // drains within the graceful-shutdown phase, then leaves
    Duration drain = Duration.ofNanos(System.nanoTime() - drainStart);
    assertThat(other.state()).isEqualTo(Rebalancer.State.CLOSED);
    assertThat(lifecycle.drained()).isTrue();
    // Handed over, not waited out: well under the session timeout (6 s) and drain-timeout (15 s).
    assertThat(drain).isLessThan(Duration.ofSeconds(6));
    await().atMost(STABLE).until(() -> rebalancer.ownedPartitions().size() == 32);
    assertThat(app.revoked).isEmpty(); // a's partitions never moved
    assertThat(handedOver).allMatch(p -> rebalancer.grant(p).isPresent());
  }

  private void readinessFollowsTheConnection() throws Exception {
    assertThat(availability.getReadinessState()).isNotEqualTo(ReadinessState.REFUSING_TRAFFIC);
    long dropped = System.nanoTime();
    zk.dropConnection(
        RebalancerInternals.curator(rebalancer)); // SUSPENDED, then RECONNECTED within the session
    await().atMost(STABLE).until(() -> app.readiness.size() >= 2);
    assertThat(app.readiness.get(0).state()).isEqualTo(ReadinessState.REFUSING_TRAFFIC);
    assertThat(app.readiness.get(0).nanos() - dropped).isLessThan(Duration.ofSeconds(2).toNanos());
    assertThat(app.readiness.get(1).state()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
    await().atMost(STABLE).until(() -> rebalancer.state() == Rebalancer.State.STABLE);

    zk.stopServer(); // a longer outage, within the session timeout
    try {
      await()
          .atMost(Duration.ofSeconds(2))
          .until(() -> availability.getReadinessState() == ReadinessState.REFUSING_TRAFFIC);
      HealthOf health = HealthOf.read(context);
      assertThat(health.status()).isEqualTo("DOWN");
      assertThat(HealthOf.endpointStatus(context)).isEqualTo("DOWN"); // /actuator/health/ringwork
      assertThat((String) health.details().get("session")).startsWith("disconnected");
    } finally {
      zk.restartServer();
    }
    await()
        .atMost(STABLE)
        .until(() -> availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC);
    await().atMost(STABLE).until(() -> HealthOf.read(context).status().equals("UP"));
  }

  @Autowired ConfigurableApplicationContext context;

  private static ConfigurableApplicationContext second(String id) {
    return new SpringApplicationBuilder(App.class)
        .web(WebApplicationType.NONE)
        .properties(
            "ringwork.connect=" + zk.connectString(),
            "ringwork.group=boot",
            "ringwork.id=" + id,
            "ringwork.partitions=32",
            "ringwork.session-timeout=6s",
            "ringwork.drain-timeout=15s",
            "spring.main.banner-mode=off")
        .run();
  }

  /** A service that only embeds the member and records its events (no component scan). */
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    final List<Set<Integer>> revoked = new CopyOnWriteArrayList<>();
    final List<Readiness> readiness = new CopyOnWriteArrayList<>();

    record Readiness(ReadinessState state, long nanos) {}

    @EventListener
    void on(AvailabilityChangeEvent<ReadinessState> e) {
      if (e.getSource() instanceof Rebalancer) {
        readiness.add(new Readiness(e.getState(), System.nanoTime()));
      }
    }

    @EventListener
    void on(RingworkEvent.Revoked e) {
      if (e.rebalancer().memberId().equals("a")) {
        revoked.add(e.partitions());
      }
    }
  }
}
