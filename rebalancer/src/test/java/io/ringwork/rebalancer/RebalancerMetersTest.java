package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Micrometer binder of a rebalancer, on a real server. */
final class RebalancerMetersTest {

  private static final int P = 16;
  private static final Duration STABLE = RingworkZooKeeper.scaled(Duration.ofSeconds(20));

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final MetricRegistry dropwizard = new MetricRegistry();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private Rebalancer rebalancer;

  @AfterEach
  void tearDown() {
    if (rebalancer != null) {
      rebalancer.close();
    }
  }

  private Rebalancer start(String id) throws InterruptedException {
    rebalancer =
        Rebalancer.newBuilder()
            .group("conductors")
            .member(Member.of(id))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(3))
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .metrics(dropwizard)
            .build();
    return rebalancer;
  }

  @Test
  void bindTo_stableMember_reportsTaggedMeters() throws Exception {
    Rebalancer r = start("c-1");
    new RebalancerMeters(r, "conductors", dropwizard).bindTo(meters);
    assertThat(meters.get("ringwork.state").tag("state", "LATENT").gauge().value()).isEqualTo(1);
    assertThat(meters.get("ringwork.locks.held").gauge().value()).isZero();

    r.start();
    assertThat(r.awaitStable(STABLE)).isTrue();
    await().atMost(STABLE).until(() -> r.state() == Rebalancer.State.STABLE);

    assertThat(meters.get("ringwork.partitions.owned").gauge().value()).isEqualTo(P);
    assertThat(meters.get("ringwork.state").tag("state", "STABLE").gauge().value()).isEqualTo(1);
    assertThat(meters.get("ringwork.state").tag("state", "LATENT").gauge().value()).isZero();
    assertThat(meters.get("ringwork.handoffs").functionCounter().count()).isGreaterThanOrEqualTo(1);
    FunctionTimer handoff = meters.get("ringwork.handoff.duration").functionTimer();
    assertThat(handoff.count()).isGreaterThanOrEqualTo(1);
    assertThat(handoff.totalTime(TimeUnit.NANOSECONDS)).isPositive();

    try (KeyGuard g = guardFast(r, "node-1")) {
      assertThat(g.fastPath()).isTrue();
    }
    assertThat(meters.get("ringwork.guards").tag("path", "fast").functionCounter().count())
        .isGreaterThanOrEqualTo(1);

    try (LockHandle h = r.locks().acquire("volume-1", LockMode.EXCLUSIVE, STABLE)) {
      assertThat(meters.get("ringwork.locks.held").gauge().value()).isEqualTo(1);
    }
    FunctionTimer wait = meters.get("ringwork.locks.wait").functionTimer();
    assertThat(wait.count()).isEqualTo(1);
    assertThat(wait.totalTime(TimeUnit.NANOSECONDS)).isPositive();

    for (Meter m : meters.getMeters()) {
      assertThat(m.getId().getTag("group")).as(m.getId().toString()).isEqualTo("conductors");
      assertThat(m.getId().getTag("member")).as(m.getId().toString()).isEqualTo("c-1");
    }
    assertThat(
            meters.getMeters().stream().map(m -> m.getId().getName()).collect(Collectors.toSet()))
        .containsExactlyInAnyOrderElementsOf(RebalancerMeters.METERS);
  }

  @Test
  void new_registryOfAnotherMember_namesTheMissingMetric() throws Exception {
    Rebalancer r = start("c-1");
    assertThatThrownBy(() -> new RebalancerMeters(r, "other", dropwizard))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("member 'c-1' in group 'other'")
        .hasMessageContaining("ringwork.other.c-1.partitions.owned");
    assertThatThrownBy(() -> new RebalancerMeters(r, "conductors", new MetricRegistry()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Rebalancer.newBuilder().metrics(...)");
  }

  /**
   * The first guards after a grant may go through a lock until the partition's locks are listed.
   */
  private static KeyGuard guardFast(Rebalancer r, String key) {
    return await()
        .atMost(STABLE)
        .until(
            () -> {
              KeyGuard g = r.guard(key, LockMode.EXCLUSIVE, STABLE);
              if (g.fastPath()) {
                return g;
              }
              g.close();
              return null;
            },
            g -> g != null);
  }
}
