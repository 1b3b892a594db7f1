package io.ringwork.spring;

import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.rebalancer.Rebalancer;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the application's member once every bean is ready and drains it on shutdown. Its phase is
 * that of Spring Boot's graceful web-server shutdown, so the drain runs beside it and within {@code
 * spring.lifecycle.timeout-per-shutdown-phase}: the member hands its partitions over (their new
 * owners activate on the group's barrier) and then leaves. A drain that does not finish within
 * {@code ringwork.drain-timeout} leaves anyway; the new owners then wait for the session to end.
 */
public final class RingworkLifecycle implements SmartLifecycle {

  /** Spring Boot's graceful-shutdown phase ({@code WebServerGracefulShutdownLifecycle}). */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;

  private static final Logger log = LoggerFactory.getLogger(RingworkLifecycle.class);

  private final Rebalancer rebalancer;
  private final Duration drainTimeout;
  private final boolean forRestart;
  private volatile boolean running;
  private volatile boolean drained;

  /** A lifecycle of {@code rebalancer} that drains for at most {@code drainTimeout}. */
  public RingworkLifecycle(Rebalancer rebalancer, Duration drainTimeout) {
    this(rebalancer, drainTimeout, false);
  }

  /**
   * A lifecycle of {@code rebalancer}; with {@code forRestart} (a restart grace is set) it leaves
   * for a restart on shutdown ({@link Rebalancer#closeForRestart()}) instead of draining.
   */
  public RingworkLifecycle(Rebalancer rebalancer, Duration drainTimeout, boolean forRestart) {
    this.rebalancer = rebalancer;
    this.drainTimeout = drainTimeout;
    this.forRestart = forRestart;
  }

  @Override
  public void start() {
    rebalancer.start();
    running = true;
  }

  @Override
  public void stop() {
    drain();
  }

  @Override
  public void stop(Runnable callback) {
    DaemonThreads.start(
        "ringwork-drain-" + rebalancer.memberId(),
        () -> {
          try {
            drain();
          } finally {
            callback.run();
          }
        });
  }

  private void drain() {
    if (!running) {
      return;
    }
    running = false;
    if (forRestart) {
      boolean reserved = rebalancer.closeForRestart();
      log.info(
          "member {} left for a restart; its partitions {} reserved for its id",
          rebalancer.memberId(),
          reserved ? "stay" : "could not be");
      return;
    }
    try {
      drained = rebalancer.drain(drainTimeout);
      if (drained) {
        log.info("member {} drained and left", rebalancer.memberId());
      } else {
        log.warn(
            "member {} left before its handoff completed (ringwork.drain-timeout {})",
            rebalancer.memberId(),
            drainTimeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      rebalancer.close();
    } catch (IllegalStateException e) {
      rebalancer.close(); // never started: nothing to hand over
    }
  }

  /** Returns whether the member, when it stopped, handed all its work over within the timeout. */
  public boolean drained() {
    return drained;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
