package io.ringwork.rebalancer;

import com.codahale.metrics.Counting;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.ringwork.lock.TotalingTimer;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A Micrometer {@link MeterBinder} for one rebalancer: the same figures as its Dropwizard metrics,
 * but with the group and member as tags ({@code group}, {@code member}) rather than in the names,
 * so that a Prometheus server sees one series per meter and member, and a fleet aggregates with
 * {@code sum by (group)}.
 *
 * <pre>{@code
 * MetricRegistry dropwizard = new MetricRegistry();
 * Rebalancer r = Rebalancer.newBuilder().group("conductors")...metrics(dropwizard).build();
 * new RebalancerMeters(r, "conductors", dropwizard).bindTo(meterRegistry);
 * }</pre>
 *
 * <p>The meters read the Dropwizard registry given to the rebalancer's builder; nothing is counted
 * twice. The lock meters exist from {@code start()} on (the lock service starts with the
 * rebalancer) and report zero before. {@link #METERS} lists every meter. Needs {@code
 * io.micrometer:micrometer-core} on the class path (an optional dependency of this module).
 */
public final class RebalancerMeters implements MeterBinder {

  /** The name of every meter bound, in the order of the README's table. */
  public static final List<String> METERS =
      List.of(
          "ringwork.partitions.owned",
          "ringwork.partitions.standby",
          "ringwork.assignment.version",
          "ringwork.handoffs",
          "ringwork.handoff.duration",
          "ringwork.rebalance.duration",
          "ringwork.revocations.overdue",
          "ringwork.locks.held",
          "ringwork.locks.waiting",
          "ringwork.locks.wait",
          "ringwork.locks.timeouts",
          "ringwork.locks.lost",
          "ringwork.guards",
          "ringwork.state");

  private final Rebalancer rebalancer;
  private final MetricRegistry registry;
  private final String prefix;
  private final Tags tags;

  /**
   * Binds the meters of {@code rebalancer}, a member of {@code group}, read from {@code registry}.
   *
   * @throws IllegalArgumentException if {@code registry} has no metrics of this member of this
   *     group (it must be the registry given to the rebalancer's builder)
   */
  public RebalancerMeters(Rebalancer rebalancer, String group, MetricRegistry registry) {
    this.rebalancer = Objects.requireNonNull(rebalancer, "rebalancer");
    this.registry = Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(group, "group");
    this.prefix = MetricRegistry.name("ringwork", group, rebalancer.memberId());
    if (!registry.getGauges().containsKey(name("partitions.owned"))) {
      throw new IllegalArgumentException(
          "the registry has no metrics of member '"
              + rebalancer.memberId()
              + "' in group '"
              + group
              + "' (no "
              + name("partitions.owned")
              + "): pass the registry given to Rebalancer.newBuilder().metrics(...)");
    }
    this.tags = Tags.of(Tag.of("group", group), Tag.of("member", rebalancer.memberId()));
  }

  @Override
  public void bindTo(MeterRegistry meters) {
    gauge(meters, "ringwork.partitions.owned", "partitions", "active grants", "partitions.owned");
    gauge(
        meters,
        "ringwork.partitions.standby",
        "partitions",
        "partitions this member is a standby of",
        "partitions.standby");
    gauge(
        meters,
        "ringwork.assignment.version",
        null,
        "assignment version in force",
        "assignment.version");
    counter(
        meters, "ringwork.handoffs", "states applied (assignment versions)", "rebalances", tags);
    timer(
        meters,
        "ringwork.handoff.duration",
        "applying a state to its grants active",
        "handoff.wait");
    timer(
        meters,
        "ringwork.rebalance.duration",
        "a view change to every grant active",
        "rebalance.time");
    counter(
        meters,
        "ringwork.revocations.overdue",
        "onRevoked calls past the revoke deadline",
        "revocations.overdue",
        tags);
    gauge(meters, "ringwork.locks.held", "locks", "per-key locks held", "locks.holds");
    gauge(meters, "ringwork.locks.waiting", "requests", "lock requests waiting", "locks.waiters");
    timer(
        meters,
        "ringwork.locks.wait",
        "lock requests, from request to grant",
        "locks.acquire.time");
    counter(meters, "ringwork.locks.timeouts", "lock requests timed out", "locks.timeouts", tags);
    counter(meters, "ringwork.locks.lost", "lock holds lost", "locks.lost", tags);
    counter(
        meters,
        "ringwork.guards",
        "owner guards by path: fast (no request) or locked",
        "locks.guards.fast",
        tags.and("path", "fast"));
    counter(
        meters,
        "ringwork.guards",
        "owner guards by path: fast (no request) or locked",
        "locks.guards.locked",
        tags.and("path", "locked"));
    for (Rebalancer.State s : Rebalancer.State.values()) {
      io.micrometer.core.instrument.Gauge.builder(
              "ringwork.state", rebalancer, r -> r.state() == s ? 1 : 0)
          .description("1 for the rebalancer's current state, 0 for the others")
          .tags(tags.and("state", s.name()))
          .strongReference(true)
          .register(meters);
    }
  }

  private String name(String metric) {
    return MetricRegistry.name(prefix, metric);
  }

  private void gauge(
      MeterRegistry meters, String meter, String unit, String description, String metric) {
    Found<Gauge<?>> found = new Found<>(registry, name(metric), Gauge.class);
    io.micrometer.core.instrument.Gauge.builder(meter, found, RebalancerMeters::gaugeValue)
        .description(description)
        .baseUnit(unit)
        .tags(tags)
        .strongReference(true) // the lookup lives only here
        .register(meters);
  }

  private void counter(
      MeterRegistry meters, String meter, String description, String metric, Tags meterTags) {
    Found<Counting> found = new Found<>(registry, name(metric), Counting.class);
    // Micrometer holds a function meter's state object weakly: a lookup referenced only by the
    // meter would be collected and the meter would freeze at its last value. The rebalancer is
    // held strongly (by the application, and by the state gauges below), the lookup by the lambda.
    FunctionCounter.builder(meter, rebalancer, r -> countOf(found.get()))
        .description(description)
        .tags(meterTags)
        .register(meters);
  }

  private void timer(MeterRegistry meters, String meter, String description, String metric) {
    Found<TotalingTimer> found = new Found<>(registry, name(metric), TotalingTimer.class);
    FunctionTimer.builder(
            meter,
            rebalancer,
            r -> countOf(found.get()),
            r -> found.get() == null ? 0 : found.get().totalNanos(),
            TimeUnit.NANOSECONDS)
        .description(description)
        .tags(tags)
        .register(meters);
  }

  private static double gaugeValue(Found<Gauge<?>> found) {
    Gauge<?> g = found.get();
    return g != null && g.getValue() instanceof Number n ? n.doubleValue() : 0;
  }

  private static long countOf(Counting c) {
    return c == null ? 0 : c.getCount();
  }

  /**
   * A Dropwizard metric looked up by name until it exists, then kept: lock metrics appear at
   * start(), and a closed member's last counts stay readable after its metrics are removed.
   */
  private static final class Found<T> {
    private final MetricRegistry registry;
    private final String name;
    private final Class<?> type;
    private final AtomicReference<T> metric = new AtomicReference<>();

    Found(MetricRegistry registry, String name, Class<?> type) {
      this.registry = registry;
      this.name = name;
      this.type = type;
    }

    @SuppressWarnings("unchecked")
    T get() {
      T m = metric.get();
      if (m == null) {
        Metric found = registry.getMetrics().get(name);
        if (type.isInstance(found)) {
          m = (T) found;
          metric.compareAndSet(null, m);
        }
      }
      return m;
    }
  }
}
