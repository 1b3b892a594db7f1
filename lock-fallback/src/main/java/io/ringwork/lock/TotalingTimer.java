package io.ringwork.lock;

import com.codahale.metrics.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Dropwizard {@link Timer} that also keeps the exact sum of the durations it recorded. A
 * Dropwizard timer keeps a count and a sampled reservoir, but a Micrometer {@code FunctionTimer}
 * (and so a Prometheus {@code _sum}) needs the total; Ringwork's own timers are of this kind so
 * that {@code RebalancerMeters} can report them exactly.
 */
public final class TotalingTimer extends Timer {

  private final LongAdder totalNanos = new LongAdder();

  /** Creates a timer with Dropwizard's default reservoir. */
  public TotalingTimer() {}

  @Override
  public void update(long duration, TimeUnit unit) {
    super.update(duration, unit);
    if (duration >= 0) {
      totalNanos.add(unit.toNanos(duration));
    }
  }

  /** Returns the sum of every duration recorded, in nanoseconds. */
  public long totalNanos() {
    return totalNanos.sum();
  }
}
