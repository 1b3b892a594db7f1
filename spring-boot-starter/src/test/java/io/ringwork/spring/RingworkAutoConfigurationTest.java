package io.ringwork.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerMeters;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The auto-configuration in an {@link ApplicationContextRunner}, against a real ZooKeeper. */
final class RingworkAutoConfigurationTest {

  private static final Duration STABLE = Duration.ofSeconds(30);

  @RegisterExtension static final RingworkZooKeeper zk = RingworkZooKeeper.embedded();

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(RingworkAutoConfiguration.class));

  private ApplicationContextRunner member(String group, String id) {
    return runner.withPropertyValues(
        "ringwork.connect=" + zk.connectString(),
        "ringwork.group=" + group,
        "ringwork.id=" + id,
        "ringwork.partitions=16",
        "ringwork.session-timeout=5s",
        "ringwork.drain-timeout=10s");
  }

  @Test
  void context_threeProperties_startsAStableMemberWithLocksHealthAndMeters() {
    member("g-basic", "m-1")
        .withUserConfiguration(Recorders.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              Rebalancer r = context.getBean(Rebalancer.class);
              assertThat(r.awaitStable(STABLE)).isTrue();
              assertThat(r.memberId()).isEqualTo("m-1");
              assertThat(r.ownedPartitions()).hasSize(16);
              assertThat(context.getBean(CuratorFramework.class))
                  .isSameAs(RebalancerInternals.curator(r));

              KeyLocks locks = context.getBean(KeyLocks.class);
              assertThat(locks).isSameAs(r.locks());
              try (LockHandle h = locks.acquire("volume-1", LockMode.EXCLUSIVE, STABLE)) {
                assertThat(h.token()).isPositive();
              }

              Recorders rec = context.getBean(Recorders.class);
              await().atMost(STABLE).until(() -> assigned(rec.listenerGrants) == 16);
              await().atMost(STABLE).until(() -> assigned(rec.eventGrants) == 16);

              HealthOf health = HealthOf.read(context);
              assertThat(health.status()).isEqualTo("UP");
              assertThat(health.details())
                  .containsEntry("group", "g-basic")
                  .containsEntry("member", "m-1")
                  .containsEntry("state", "STABLE")
                  .containsEntry("partitions", 16);
              assertThat((String) health.details().get("session")).startsWith("connected 0x");

              SimpleMeterRegistry meters = new SimpleMeterRegistry();
              context.getBean(RebalancerMeters.class).bindTo(meters);
              assertThat(
                      meters
                          .get("ringwork.partitions.owned")
                          .tags("group", "g-basic", "member", "m-1")
                          .gauge()
                          .value())
                  .isEqualTo(16);
            });
  }

  private static int assigned(List<List<Grant>> batches) {
    return batches.stream().mapToInt(List::size).sum();
  }

  @Test
  void context_environmentVariables_bindRelaxed() {
    runner
        .withInitializer(
            c ->
                c.getEnvironment()
                    .getPropertySources()
                    .addFirst(
                        new SystemEnvironmentPropertySource(
                            "test-env",
                            Map.of(
                                "RINGWORK_CONNECT", zk.connectString(),
                                "RINGWORK_GROUP", "g-env",
                                "RINGWORK_ID", "env-1",
                                "RINGWORK_SESSION_TIMEOUT", "4s",
                                "RINGWORK_LABELS", "hw=ipmi,rack=7"))))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              RingworkProperties p = context.getBean(RingworkProperties.class);
              assertThat(p.getConnect()).isEqualTo(zk.connectString());
              assertThat(p.getSessionTimeout()).isEqualTo(Duration.ofSeconds(4));
              assertThat(p.getLabels()).containsExactly("hw=ipmi", "rack=7");
              Rebalancer r = context.getBean(Rebalancer.class);
              assertThat(r.awaitStable(STABLE)).isTrue();
              assertThat(r.memberId()).isEqualTo("env-1");
            });
  }

  @Test
  void context_noGroup_failsNamingTheProperty() {
    runner
        .withPropertyValues("ringwork.connect=" + zk.connectString())
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("ringwork.group (RINGWORK_GROUP) is required"));
  }

  @Test
  void context_noConnect_failsNamingTheProperty() {
    runner
        .withPropertyValues("ringwork.group=g")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("ringwork.connect (RINGWORK_CONNECT) is required"));
  }

  @Test
  void context_badPartitions_failsNamingTheValue() {
    member("g-bad", "m-1")
        .withPropertyValues("ringwork.partitions=12")
        .run(context -> assertThat(context).getFailure().rootCause().hasMessageContaining("12"));
  }

  @Test
  void context_applicationCurator_isUsedAndNotReplaced() {
    member("g-own", "m-1")
        .withPropertyValues("ringwork.connect=") // the application's client needs none
        .withUserConfiguration(OwnCurator.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean("ringworkCurator");
              Rebalancer r = context.getBean(Rebalancer.class);
              assertThat(RebalancerInternals.curator(r)).isSameAs(context.getBean("ownCurator"));
              assertThat(r.awaitStable(STABLE)).isTrue();
            });
  }

  @Test
  void context_applicationRebalancer_backsOff() {
    member("g-app", "m-1")
        .withUserConfiguration(OwnRebalancer.class)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).hasSingleBean(Rebalancer.class);
              assertThat(context).doesNotHaveBean(RingworkLifecycle.class);
              assertThat(context).doesNotHaveBean("ringworkCurator");
              assertThat(context.getBean(Rebalancer.class).state())
                  .isEqualTo(Rebalancer.State.LATENT);
            });
  }

  @Test
  void context_disabled_configuresNothing() {
    member("g-off", "m-1")
        .withPropertyValues("ringwork.enabled=false")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(Rebalancer.class);
              assertThat(context).doesNotHaveBean(CuratorFramework.class);
            });
  }

  @Test
  void replicas_standbysReachEventsAndListenerBeans() throws Exception {
    CuratorFramework other =
        CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
    other.start();
    try (Rebalancer peer =
        Rebalancer.newBuilder()
            .group("g-standby")
            .member(Member.of("peer"))
            .curator(other)
            .partitions(16)
            .replicas(2)
            .build()) {
      peer.start();
      member("g-standby", "m-1")
          .withPropertyValues("ringwork.replicas=2")
          .withUserConfiguration(StandbyRecorders.class)
          .run(
              context -> {
                Rebalancer r = context.getBean(Rebalancer.class);
                assertThat(r.awaitStable(STABLE)).isTrue();
                assertThat(peer.awaitStable(STABLE)).isTrue();
                StandbyRecorders rec = context.getBean(StandbyRecorders.class);
                // Two members, two replicas: m-1 stands by for every partition the peer owns.
                await().atMost(STABLE).until(() -> rec.fromListener.equals(peer.ownedPartitions()));
                await().atMost(STABLE).until(() -> rec.fromEvents.equals(peer.ownedPartitions()));
                assertThat(r.standbyPartitions()).isEqualTo(peer.ownedPartitions());
              });
    } finally {
      other.close();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class StandbyRecorders {
    final Set<Integer> fromListener = ConcurrentHashMap.newKeySet();
    final Set<Integer> fromEvents = ConcurrentHashMap.newKeySet();

    @Bean
    OwnershipListener standbyListener() {
      return new OwnershipListener() {
        @Override
        public void onStandby(Set<Integer> partitions) {
          fromListener.addAll(partitions);
        }

        @Override
        public void onStandbyRevoked(Set<Integer> partitions) {
          fromListener.removeAll(partitions);
        }
      };
    }

    @Bean
    ApplicationListener<RingworkEvent.Standby> standbyEvents() {
      return e -> fromEvents.addAll(e.partitions());
    }

    @Bean
    ApplicationListener<RingworkEvent.StandbyRevoked> standbyRevokedEvents() {
      return e -> fromEvents.removeAll(e.partitions());
    }
  }

  @Test
  void listenerBeans_oneThrows_theOthersStillRun() {
    member("g-throw", "m-1")
        .withUserConfiguration(Throwing.class, Recorders.class)
        .run(
            context -> {
              Recorders rec = context.getBean(Recorders.class);
              await().atMost(STABLE).until(() -> assigned(rec.listenerGrants) == 16);
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class Recorders {
    final List<List<Grant>> listenerGrants = new CopyOnWriteArrayList<>();
    final List<List<Grant>> eventGrants = new CopyOnWriteArrayList<>();

    @Bean
    OwnershipListener recordingListener() {
      return new OwnershipListener() {
        @Override
        public void onAssigned(List<Grant> grants) {
          listenerGrants.add(grants);
        }
      };
    }

    @Bean
    ApplicationListener<RingworkEvent.Assigned> recordingEvents() {
      return e -> eventGrants.add(e.grants());
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class Throwing {
    @Bean
    ApplicationListener<RingworkEvent.Assigned> aThrowingEventListener() {
      return e -> {
        throw new IllegalStateException("event listener failure on purpose");
      };
    }

    @Bean
    OwnershipListener aThrowingListener() {
      return new OwnershipListener() {
        @Override
        public void onAssigned(List<Grant> grants) {
          throw new IllegalStateException("listener failure on purpose");
        }
      };
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnRebalancer {
    @Bean(destroyMethod = "close")
    Rebalancer ownRebalancer() {
      return Rebalancer.newBuilder()
          .group("g-app")
          .member(Member.of("own"))
          .connectString(zk.connectString())
          .build();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnCurator {
    @Bean(destroyMethod = "close")
    CuratorFramework ownCurator() {
      return CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
    }
  }
}
