package io.ringwork.rebalancer;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.ringwork.lock.TotalingTimer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The rebalancer's metrics, named {@code ringwork.<group>.<member>.<metric>} in the injected
 * registry, so that members of one group can share a registry without sharing gauges.
 *
 * <ul>
 *   <li>{@code rebalances}: meter of assignment versions applied;
 *   <li>{@code rebalance.time}: timer from a view change to all of this member's grants active;
 *   <li>{@code partitions.owned}: gauge of active grants;
 *   <li>{@code handoff.wait}: timer from applying a version to activating its new grants;
 *   <li>{@code revocations.overdue}: counter of {@code onRevoked} calls past their deadline;
 *   <li>{@code assignment.version}: gauge of the version in force;
 *   <li>{@code assignment.bytes.written}: histogram of bytes the leader wrote per publish;
 *   <li>{@code partitions.standby}: gauge of partitions this member is a standby of.
 * </ul>
 */
public final class RebalancerMetrics {

  private final MetricRegistry registry;
  private final String prefix;
  private final Meter rebalances;
  private final Timer rebalanceTime;
  private final Timer handoffWait;
  private final Counter overdue;
  private final Histogram bytesWritten;
  private volatile long version;

  RebalancerMetrics(
      MetricRegistry registry,
      String group,
      String member,
      Supplier<Ownership> ownership,
      Supplier<Integer> standbys) {
    this.registry = registry;
    this.prefix = MetricRegistry.name("ringwork", group, member);
    this.rebalances = registry.meter(name("rebalances"));
    this.rebalanceTime = registry.timer(name("rebalance.time"), TotalingTimer::new);
    this.handoffWait = registry.timer(name("handoff.wait"), TotalingTimer::new);
    this.overdue = registry.counter(name("revocations.overdue"));
    this.bytesWritten = registry.histogram(name("assignment.bytes.written"));
    registry.gauge(
        name("partitions.owned"), () -> (Gauge<Integer>) () -> ownership.get().activeCount());
    registry.gauge(name("assignment.version"), () -> (Gauge<Long>) () -> version);
    registry.gauge(name("partitions.standby"), () -> (Gauge<Integer>) standbys::get);
  }

  /** The names, after {@code ringwork.<group>.<member>.}, of every metric a rebalancer keeps. */
  public static final List<String> NAMES =
      List.of(
          "rebalances",
          "rebalance.time",
          "partitions.owned",
          "handoff.wait",
          "revocations.overdue",
          "assignment.version",
          "assignment.bytes.written",
          "partitions.standby");

  private String name(String metric) {
    return MetricRegistry.name(prefix, metric);
  }

  void rebalance() {
    rebalances.mark();
  }

  void rebalanceTime(long nanos) {
    rebalanceTime.update(nanos, TimeUnit.NANOSECONDS);
  }

  void handoffWait(long nanos) {
    handoffWait.update(nanos, TimeUnit.NANOSECONDS);
  }

  void overdueRevocation() {
    overdue.inc();
  }

  void bytesWritten(long bytes) {
    bytesWritten.update(bytes);
  }

  void version(long v) {
    version = v;
  }

  /** Removes this member's metrics, and no one else's. */
  void close() {
    for (String metric : NAMES) {
      registry.remove(name(metric));
    }
  }
}
