package io.ringwork.simulator.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Injects the demo's faults into a run and records each: its count, when it came (with the worker
 * it hit, for the chart) and how long the group took to settle after it.
 */
final class FaultInjector {

  private final DemoRun run;
  private final Random rnd;
  private final long startedNanos;
  private final List<Map.Entry<Double, String>> times = new ArrayList<>();

  /** The fault in progress or last injected, with its worker, for the status line. */
  private volatile String last;

  /**
   * Injects into {@code run}, choosing workers with {@code rnd} (the schedule's, so that a seed
   * gives one run); times are seconds since {@code startedNanos}.
   */
  FaultInjector(DemoRun run, Random rnd, long startedNanos) {
    this.run = run;
    this.rnd = rnd;
    this.startedNanos = startedNanos;
  }

  /** The fault in progress or last injected ({@code crash w3}), or null before the first. */
  String last() {
    return last;
  }

  /** Each fault's second since the start, with its label and worker. */
  List<Map.Entry<Double, String>> times() {
    return times;
  }

  /** Injects one fault and waits for the group to settle after it. */
  void inject(Fault fault) throws Exception {
    String kind = fault.label();
    run.faultCounts.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    long t0 = System.nanoTime();
    double at = (t0 - startedNanos) / 1e9;
    last = kind;
    try {
      inject(fault, t0);
    } finally {
      times.add(Map.entry(at, last)); // with the worker chosen, e.g. "crash w3"
    }
  }

  private void inject(Fault fault, long t0) throws Exception {
    List<Worker> live = run.live;
    switch (fault) {
      case JOIN -> {
        Worker joined = run.newWorker();
        last = "join " + joined.id();
        live.add(joined);
      }
      case CONNECTION -> {
        run.restartServer();
        // Measure from the fault to the group's recovery, not to before anyone noticed.
        long noticed = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < noticed && live.stream().allMatch(Worker::stable)) {
          Thread.sleep(5);
        }
      }
      case DRAIN -> {
        if (live.size() > 1) {
          Worker w = live.remove(rnd.nextInt(live.size()));
          last = "drain " + w.id();
          w.drain();
        }
      }
      case CRASH, LEADER -> {
        if (live.size() > 1) {
          Worker w = fault == Fault.LEADER ? run.leader() : live.get(rnd.nextInt(live.size()));
          live.remove(w);
          last = fault.label() + " " + w.id();
          w.crash();
          live.add(run.newWorker()); // a replacement comes up
        }
      }
      case PAUSE -> {
        pause(t0);
        return;
      }
      case RESTART -> {
        rollingRestart();
        return;
      }
    }
    run.awaitStable(Duration.ofSeconds(30));
    run.handoff(fault.label(), t0);
  }

  /** Freezes a worker past its session; once the group moved on, it wakes with its old token. */
  private void pause(long t0) throws Exception {
    Worker w = run.live.get(rnd.nextInt(run.live.size()));
    last = "pause " + w.id();
    w.freeze();
    run.awaitStable(Duration.ofSeconds(30)); // the group moves on without it
    run.handoff(Fault.PAUSE.label(), t0);
    w.thaw();
  }

  /**
   * Restarts every live worker in turn with the same id: it leaves for a restart (its partitions
   * stay reserved for it), a new worker with its id starts, the group settles. Counts every
   * partition activated on another worker meanwhile as moved, and each restart's time from the
   * leave to the settled group as its handoff.
   */
  private void rollingRestart() throws Exception {
    run.restarts++;
    for (int i = 0; i < run.live.size(); i++) {
      Worker w = run.live.get(i);
      last = "restart " + w.id();
      long start = System.nanoTime();
      Map<String, Long> before = new HashMap<>();
      run.activated.forEach((id, n) -> before.put(id, n.get()));
      w.leaveForRestart();
      Worker back = new LocalWorker(run, w.id());
      run.live.set(i, back);
      run.awaitStable(Duration.ofSeconds(30));
      run.activated.forEach(
          (id, n) -> {
            if (!id.equals(w.id())) {
              run.restartMoves.addAndGet(n.get() - before.getOrDefault(id, 0L));
            }
          });
      run.handoff(Fault.RESTART.label(), start);
    }
  }
}
