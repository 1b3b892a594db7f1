package io.ringwork.spring;

import com.codahale.metrics.MetricRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.ringwork.lock.KeyLocks;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerBuilder;
import io.ringwork.rebalancer.RebalancerMeters;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Lazy;

/**
 * Auto-configures one Ringwork member from {@code ringwork.*} properties ({@link
 * RingworkProperties}): a {@link CuratorFramework} unless the application defines one, the {@link
 * Rebalancer} (started by {@link RingworkLifecycle} once every bean is ready, drained on shutdown)
 * and its {@link KeyLocks}, ownership changes as {@link RingworkEvent}s and to every {@link
 * OwnershipListener} bean, readiness that refuses traffic while the member is suspended or lost,
 * the {@code ringwork} health indicator (Boot 3 or Boot 4 Actuator, whichever is present) and
 * Micrometer meters ({@link RebalancerMeters}) when Micrometer is present.
 *
 * <p>An application that builds its own {@code Rebalancer} bean gets none of this: it keeps its
 * member's lifecycle, and binds {@code RebalancerMeters} itself.
 */
@AutoConfiguration
@ConditionalOnClass(Rebalancer.class)
@ConditionalOnMissingBean(Rebalancer.class)
@ConditionalOnProperty(prefix = "ringwork", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(RingworkProperties.class)
public class RingworkAutoConfiguration {

  /**
   * The ZooKeeper client: {@code ringwork.connect}, {@code ringwork.session-timeout} and {@code
   * ringwork.auth}. The rebalancer starts it.
   *
   * @throws IllegalStateException if {@code ringwork.connect} is not set
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public CuratorFramework ringworkCurator(RingworkProperties p) {
    if (p.getConnect() == null || p.getConnect().isBlank()) {
      throw new IllegalStateException(
          "ringwork.connect (RINGWORK_CONNECT) is required: the ZooKeeper connect string, e.g."
              + " zk1:2181; or define a CuratorFramework bean, or set ringwork.enabled=false");
    }
    CuratorFrameworkFactory.Builder b =
        CuratorFrameworkFactory.builder()
            .connectString(p.getConnect())
            .sessionTimeoutMs(Math.toIntExact(p.getSessionTimeout().toMillis()))
            .connectionTimeoutMs(
                Math.toIntExact(Math.min(15_000, p.getSessionTimeout().toMillis())))
            .retryPolicy(new ExponentialBackoffRetry(100, 10, 2_000));
    if (p.getAuth() != null) {
      if (!p.getAuth().contains(":")) {
        throw new IllegalStateException("ringwork.auth must be USER:PASSWORD, got no ':'");
      }
      b.authorization("digest", p.getAuth().getBytes(StandardCharsets.UTF_8));
    }
    return b.build();
  }

  /** The Dropwizard registry the rebalancer writes to, unless the application has one. */
  @Bean
  @ConditionalOnMissingBean
  public MetricRegistry ringworkMetricRegistry() {
    return new MetricRegistry();
  }

  /**
   * The member, built but not started: {@link RingworkLifecycle} starts it.
   *
   * @throws IllegalStateException if {@code ringwork.group} is not set
   * @throws IllegalArgumentException if a property is invalid (the message names it)
   */
  @Bean(destroyMethod = "close")
  public Rebalancer ringworkRebalancer(
      RingworkProperties p,
      CuratorFramework curator,
      MetricRegistry metrics,
      ApplicationEventPublisher publisher,
      ObjectProvider<OwnershipListener> listeners) {
    if (p.getGroup() == null || p.getGroup().isBlank()) {
      throw new IllegalStateException(
          "ringwork.group (RINGWORK_GROUP) is required: the group this member joins");
    }
    ContextOwnershipListener listener =
        new ContextOwnershipListener(publisher, () -> listeners.orderedStream().toList());
    Member self = Member.of(memberId(p), p.getWeight(), p.getZone()).withLabels(p.getLabels());
    RebalancerBuilder b =
        Rebalancer.newBuilder()
            .group(p.getGroup())
            .member(self)
            .curator(curator)
            .namespace(p.getNamespace())
            .strategy(p.getStrategy())
            .sessionTimeout(p.getSessionTimeout())
            .revokeDeadline(p.getRevokeDeadline())
            .metrics(metrics)
            .listener(listener);
    if (p.getPartitions() != null) {
      b.partitions(p.getPartitions());
    }
    if (p.getReplicas() != null) {
      b.replicas(p.getReplicas());
    }
    if (p.getRouteUntil() != null) {
      b.router(KeyRouter.upTo(p.getRouteUntil()));
    }
    if (p.getRestartGrace() != null) {
      b.restartGrace(p.getRestartGrace());
    }
    Rebalancer r = b.build();
    listener.source(r);
    return r;
  }

  /** Starts the member when the context has started and drains it on shutdown. */
  @Bean
  public RingworkLifecycle ringworkLifecycle(Rebalancer rebalancer, RingworkProperties p) {
    return new RingworkLifecycle(
        rebalancer,
        p.getDrainTimeout(),
        p.getRestartGrace() != null && !p.getRestartGrace().isZero());
  }

  /**
   * The member's lock service. It exists once the member has started, so it is lazy: inject it as
   * {@code ObjectProvider<KeyLocks>} (or call {@code rebalancer.locks()}) and use it after start.
   *
   * @throws IllegalStateException if asked for before the member started
   */
  @Bean
  @Lazy
  @ConditionalOnMissingBean
  public KeyLocks ringworkKeyLocks(Rebalancer rebalancer) {
    return rebalancer.locks();
  }

  /** Micrometer meters of the member, tagged with group and member. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterBinder.class)
  static class Meters {
    @Bean
    @ConditionalOnMissingBean
    RebalancerMeters ringworkMeters(
        Rebalancer rebalancer, RingworkProperties p, MetricRegistry metrics) {
      return new RebalancerMeters(rebalancer, p.getGroup(), metrics);
    }
  }

  /** The {@code ringwork} health indicator on Boot 3. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
  static class Boot3Health {
    @Bean
    @ConditionalOnMissingBean(name = "ringworkHealthIndicator")
    RingworkHealthIndicator ringworkHealthIndicator(Rebalancer rebalancer, RingworkProperties p) {
      return new RingworkHealthIndicator(new RingworkHealth(rebalancer, p.getGroup()));
    }
  }

  /** The {@code ringwork} health indicator on Boot 4. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  static class Boot4Health {
    @Bean
    @ConditionalOnMissingBean(name = "ringworkHealthIndicator")
    RingworkBoot4HealthIndicator ringworkHealthIndicator(
        Rebalancer rebalancer, RingworkProperties p) {
      return new RingworkBoot4HealthIndicator(new RingworkHealth(rebalancer, p.getGroup()));
    }
  }

  private static String memberId(RingworkProperties p) {
    if (p.getId() != null && !p.getId().isBlank()) {
      return p.getId();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      String env = System.getenv("HOSTNAME");
      if (env != null && !env.isBlank()) {
        return env;
      }
      throw new IllegalStateException(
          "ringwork.id (RINGWORK_ID) is not set and the host name is unknown: " + e.getMessage());
    }
  }
}
