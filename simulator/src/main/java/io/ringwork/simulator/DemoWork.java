package io.ringwork.simulator;

import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Assignment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one demo worker does, in-process or as its own process: process every resource of the
 * partitions it owns, each under {@link Rebalancer#guard} and with a fenced write, over and over.
 *
 * <p>Each write the ledger rejects is explained, or counted as unexplained (which fails the demo):
 * {@code paused} when the worker was frozen between its guard and its write or just before it (its
 * session ended meanwhile, and it acts on what it knew before the freeze until it processes the
 * expiry), otherwise {@code lost} or {@code revoked} as the rebalancer reports the end of the
 * worker's grant of the key's partition after the guard was taken, waiting for that report up to
 * twice the session timeout.
 */
final class DemoWork implements OwnershipListener {

  /** Causes of a rejected write. */
  static final List<String> CAUSES = List.of("paused", "lost", "revoked", "unexplained");

  /** Receives each rejected write. */
  interface StaleSink {
    void stale(String key, long token, String cause);
  }

  private final String id;
  private final Map<Integer, List<String>> keysByPartition;
  private final long sessionNanos;
  private final StaleSink sink;

  /** Partition -> how its last grant ended, and when (nanoTime). */
  private final Map<Integer, Ended> ended = new ConcurrentHashMap<>();

  private record Ended(String how, long at) {}

  /** Set while the worker is frozen (in-process pause); a frozen thread waits on it. */
  volatile CountDownLatch paused;

  /** When the last freeze ended (nanoTime), or 0. */
  private volatile long lastFreezeEnd;

  final AtomicLong accepted = new AtomicLong();
  final AtomicLong rejected = new AtomicLong();
  volatile boolean running = true;

  DemoWork(
      String id, Map<Integer, List<String>> keysByPartition, Duration session, StaleSink sink) {
    this.id = id;
    this.keysByPartition = keysByPartition;
    this.sessionNanos = session.toNanos();
    this.sink = sink;
  }

  /** Records that the worker was frozen until now (its JVM stopped, or its thread held). */
  void frozeUntilNow() {
    lastFreezeEnd = System.nanoTime();
  }

  /**
   * Watches for the whole process being frozen (SIGSTOP): a ticker that finds more than a third of
   * the session timeout gone between two 50 ms ticks records a freeze.
   */
  Thread freezeDetector() {
    Thread t =
        new Thread(
            () -> {
              long last = System.nanoTime();
              while (running) {
                try {
                  Thread.sleep(50);
                } catch (InterruptedException e) {
                  return;
                }
                long now = System.nanoTime();
                if (now - last > sessionNanos / 3) {
                  frozeUntilNow();
                }
                last = now;
              }
            },
            "demo-freeze-detector-" + id);
    t.setDaemon(true);
    return t;
  }

  /** Processes owned resources until stopped. */
  void run(Rebalancer rebalancer, DemoLedger.Writer writer) throws Exception {
    int done = 0;
    while (running) {
      for (int p : rebalancer.ownedPartitions()) {
        int n = 0;
        for (String key : keysByPartition.getOrDefault(p, List.of())) {
          if (!running) {
            return;
          }
          if (++n % 20 == 0 && !rebalancer.ownedPartitions().contains(p)) {
            break; // handed over meanwhile: leave its keys to the new owner
          }
          long token;
          boolean ok;
          boolean lockLost = false;
          long guardedAt = System.nanoTime();
          try (KeyGuard g = rebalancer.guard(key, LockMode.EXCLUSIVE, Duration.ofMillis(200))) {
            CountDownLatch frozen = paused;
            if (frozen != null) {
              frozen.await(); // a paused process: it wakes up still believing it owns the key
              frozeUntilNow();
            }
            token = g.token();
            ok = writer.write(key, id, token);
            lockLost = !ok && g.lock() != null && g.lock().state() == LockState.LOST;
          } catch (LockTimeoutException | IllegalStateException e) {
            continue; // contested, or no longer ours: the next pass sees
          }
          (ok ? accepted : rejected).incrementAndGet();
          if (!ok) {
            sink.stale(key, token, lockLost ? "lost" : explain(p, guardedAt));
          }
          if (++done % 50 == 0) {
            Thread.sleep(5); // leave the CPU to ZooKeeper and the others
          }
        }
      }
      Thread.sleep(20);
    }
  }

  private String explain(int partition, long guardedAt) throws InterruptedException {
    long deadline = System.nanoTime() + 2 * sessionNanos;
    while (true) {
      long freeze = lastFreezeEnd;
      if (freeze != 0 && freeze >= guardedAt - 2 * sessionNanos) {
        return "paused";
      }
      Ended how = ended.get(partition);
      if (how != null && how.at() >= guardedAt) {
        return how.how();
      }
      if (System.nanoTime() > deadline) {
        return "unexplained";
      }
      Thread.sleep(10);
    }
  }

  @Override
  public void onRevoked(Set<Integer> partitions) {
    end(partitions, "revoked");
  }

  @Override
  public void onLost(Set<Integer> partitions) {
    end(partitions, "lost");
  }

  private void end(Set<Integer> partitions, String how) {
    Ended e = new Ended(how, System.nanoTime());
    for (Integer p : partitions) {
      ended.put(p, e);
    }
  }

  /** Returns a listener that tells {@code first}, then this. */
  OwnershipListener after(OwnershipListener first) {
    DemoWork self = this;
    return new OwnershipListener() {
      @Override
      public void onAssigned(List<Grant> grants) {
        first.onAssigned(grants);
      }

      @Override
      public void onRevoked(Set<Integer> partitions) {
        first.onRevoked(partitions);
        self.onRevoked(partitions);
      }

      @Override
      public void onLost(Set<Integer> partitions) {
        first.onLost(partitions);
        self.onLost(partitions);
      }

      @Override
      public void onSuspended() {
        first.onSuspended();
      }

      @Override
      public void onResumed() {
        first.onResumed();
      }

      @Override
      public void onAssignment(Assignment assignment) {
        first.onAssignment(assignment);
      }
    };
  }

  /** Waits for up to a few seconds for a thread to finish. */
  static void join(Thread t) throws InterruptedException {
    t.join(TimeUnit.SECONDS.toMillis(5));
  }
}
