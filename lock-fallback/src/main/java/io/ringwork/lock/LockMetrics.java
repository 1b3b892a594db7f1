package io.ringwork.lock;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The lock service's metrics, named {@code ringwork.<group>.<member>.locks.<metric>} in the
 * injected registry.
 *
 * <ul>
 *   <li>{@code acquire.time}: timer of granted acquisitions, from request to grant;
 *   <li>{@code holds}, {@code waiters}: gauges of this member's held locks and waiting requests;
 *   <li>{@code contended}: counter of acquisitions that had to wait;
 *   <li>{@code timeouts}: counter of requests that timed out;
 *   <li>{@code lost}: counter of holds lost (session ended, broken by force);
 *   <li>{@code breaks}: counter of locks this member broke by force;
 *   <li>{@code guards.fast}: counter of owner guards granted with no ZooKeeper request;
 *   <li>{@code guards.locked}: counter of guards that went through a lock;
 *   <li>{@code yields}: counter of keys the owner yielded to a lock request.
 * </ul>
 */
final class LockMetrics {

  /** The names, after {@code ringwork.<group>.<member>.locks.}, of every metric kept. */
  static final List<String> NAMES =
      List.of(
          "acquire.time",
          "holds",
          "waiters",
          "contended",
          "timeouts",
          "lost",
          "breaks",
          "guards.fast",
          "guards.locked",
          "yields",
          "guards.abandoned");

  private final MetricRegistry registry;
  private final String prefix;
  final Timer acquireTime;
  final Counter contended;
  final Counter timeouts;
  final Counter lost;
  final Counter breaks;
  final Counter fastGuards;
  final Counter lockedGuards;
  final Counter yields;
  final Counter abandonedGuards;

  LockMetrics(
      MetricRegistry registry,
      String group,
      String member,
      IntSupplier holds,
      IntSupplier waiters) {
    this.registry = registry;
    this.prefix = MetricRegistry.name("ringwork", group, member, "locks");
    this.acquireTime = registry.timer(name("acquire.time"), TotalingTimer::new);
    this.contended = registry.counter(name("contended"));
    this.timeouts = registry.counter(name("timeouts"));
    this.lost = registry.counter(name("lost"));
    this.breaks = registry.counter(name("breaks"));
    this.fastGuards = registry.counter(name("guards.fast"));
    this.lockedGuards = registry.counter(name("guards.locked"));
    this.yields = registry.counter(name("yields"));
    this.abandonedGuards = registry.counter(name("guards.abandoned"));
    registry.gauge(name("holds"), () -> (Gauge<Integer>) holds::getAsInt);
    registry.gauge(name("waiters"), () -> (Gauge<Integer>) waiters::getAsInt);
  }

  String name(String metric) {
    return MetricRegistry.name(prefix, metric);
  }

  void acquired(long nanos) {
    acquireTime.update(nanos, TimeUnit.NANOSECONDS);
  }

  void close() {
    for (String metric : NAMES) {
      registry.remove(name(metric));
    }
  }
}
