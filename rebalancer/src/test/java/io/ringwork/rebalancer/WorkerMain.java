package io.ringwork.rebalancer;

import io.ringwork.ring.Member;
import java.time.Duration;

/**
 * A worker in its own JVM, for scenarios that kill processes: {@code WorkerMain CONNECT GROUP ID
 * PARTITIONS SESSION_TIMEOUT_MS [STRATEGY]}. Prints {@code READY} once stable, then runs until
 * killed.
 */
public final class WorkerMain {

  private WorkerMain() {}

  /** Runs the worker. */
  public static void main(String[] args) throws Exception {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group(args[1])
            .member(Member.of(args[2]))
            .connectString(args[0])
            .partitions(Integer.parseInt(args[3]))
            .sessionTimeout(Duration.ofMillis(Long.parseLong(args[4])))
            .strategy(args.length > 5 ? args[5] : "balanced")
            .settleDelay(Duration.ofMillis(100))
            .build();
    r.start();
    if (r.awaitStable(Duration.ofSeconds(60))) {
      System.out.println("READY");
      System.out.flush();
    }
    Thread.currentThread().join();
  }
}
