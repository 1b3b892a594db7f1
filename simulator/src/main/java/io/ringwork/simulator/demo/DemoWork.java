package io.ringwork.simulator.demo;

import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import io.ringwork.ring.Assignment;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one demo worker does, in-process or as its own process: process every resource of the
 * partitions it owns, each under {@link Rebalancer#guard} and with a fenced write, over and over;
 * and report, from the outside of the library, every hold it was given to the demo's strict history
 * ({@link Recorder}): each grant read, each guard from the moment it was obtained to its close, and
 * the moment the library voided its holds ({@code onLost}), each under the ZooKeeper session it was
 * taken in.
 *
 * <p>Tokens are issued to the ledger as the worker sees them (every key of a partition when a new
 * grant of it appears, one key when a guard's token is above its partition's), so that the ledger
 * counts the stale writes it accepted.
 *
 * <p>Each write the ledger rejects is explained by what was observed of this very write, or counted
 * as unexplained (which fails the demo): {@code paused} when the worker was paused between its
 * guard and its write (the demo's injected pause, or its whole process frozen after the guard was
 * obtained), {@code expired} when the session the guard was taken in is gone (the client holds
 * another session, waiting for it to learn so up to twice the session timeout), {@code lost} when
 * the guard's lock reports LOST. A rejection with none of these means the library let two holders
 * write at once.
 */
final class DemoWork implements OwnershipListener {

  /** Causes of a rejected write. */
  static final List<String> CAUSES = List.of("paused", "expired", "lost", "unexplained");

  /** Receives each rejected write. */
  interface StaleSink {
    void stale(String key, long token, String cause);
  }

  /** Receives the holds the worker was given, for the demo's strict history. */
  interface Recorder {
    /** The library said, at {@code at}, that the worker holds a partition with a token. */
    void grantRead(long session, int partition, long token, long at);

    /** A guard the worker held from {@code opened} to {@code closed}. */
    void guard(
        long session,
        String key,
        int partition,
        long token,
        boolean fastPath,
        long opened,
        long closed);

    /** The library voided every hold of a session ({@code onLost}) at {@code at}. */
    void withdrawn(long session, long at);

    /** The worker parked in its guard-to-write window (the demo's injected pause). */
    default void parked(String key, long token) {}
  }

  private final String id;
  private final Map<Integer, List<String>> keysByPartition;
  private final long sessionNanos;
  private final StaleSink sink;
  private final Recorder recorder;

  /** Set while the worker is to pause in its next guard-to-write window; it waits on it. */
  volatile CountDownLatch paused;

  /** When the last freeze of the whole process ended (nanoTime), or 0. */
  private volatile long lastFreezeEnd;

  /** The sessions this worker recorded holds in and has not seen voided. */
  private final Set<Long> sessions = ConcurrentHashMap.newKeySet();

  /** Grants seen in callbacks whose tokens the worker thread still has to issue to the ledger. */
  private final Map<Integer, Long> toIssue = new ConcurrentHashMap<>();

  /** Per partition, the last token this worker issued to the ledger. */
  private final Map<Integer, Long> issued = new HashMap<>();

  private volatile Rebalancer rebalancer;

  final AtomicLong accepted = new AtomicLong();
  final AtomicLong rejected = new AtomicLong();
  volatile boolean running = true;

  DemoWork(
      String id,
      Map<Integer, List<String>> keysByPartition,
      Duration session,
      StaleSink sink,
      Recorder recorder) {
    this.id = id;
    this.keysByPartition = keysByPartition;
    this.sessionNanos = session.toNanos();
    this.sink = sink;
    this.recorder = recorder;
  }

  /** Records that the whole process was frozen until now. */
  void frozeUntilNow() {
    lastFreezeEnd = System.nanoTime();
  }

  /**
   * Watches for the whole process being frozen (SIGSTOP): a ticker that finds more than a third of
   * the session timeout gone between two 50 ms ticks records a freeze.
   */
  Thread freezeDetector() {
    Thread t =
        DaemonThreads.thread(
            "demo-freeze-detector-" + id,
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
            });
    return t;
  }

  /** The session the worker's client is in now, or 0 without one. */
  private long session() {
    try {
      return RebalancerInternals.curator(rebalancer)
          .getZookeeperClient()
          .getZooKeeper()
          .getSessionId();
    } catch (Exception e) {
      return 0;
    }
  }

  /** Processes owned resources until stopped. */
  void run(Rebalancer rebalancer, DemoLedger.Writer writer) throws Exception {
    this.rebalancer = rebalancer;
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
          issueGrants(writer);
          long grantToken = readGrant(p, writer);
          if (process(key, p, grantToken, writer) && ++done % 50 == 0) {
            Thread.sleep(5); // leave the CPU to ZooKeeper and the others
          }
        }
      }
      Thread.sleep(20);
    }
  }

  /** Reads the grant of a partition (a hold the history checks); returns its token, or 0. */
  private long readGrant(int p, DemoLedger.Writer writer) throws SQLException {
    long session = session();
    Optional<Grant> grant = rebalancer.grant(p);
    if (grant.isEmpty()) {
      return 0;
    }
    long token = grant.get().token();
    sessions.add(session);
    recorder.grantRead(session, p, token, System.nanoTime());
    issue(p, token, writer);
    return token;
  }

  private void issueGrants(DemoLedger.Writer writer) throws SQLException {
    for (Map.Entry<Integer, Long> e : toIssue.entrySet()) {
      if (toIssue.remove(e.getKey(), e.getValue())) {
        issue(e.getKey(), e.getValue(), writer);
      }
    }
  }

  private void issue(int p, long token, DemoLedger.Writer writer) throws SQLException {
    Long last = issued.get(p);
    if (last == null || last < token) {
      writer.issuedPartition(p, token);
      issued.put(p, token);
    }
  }

  /** Guards a key, writes it, and records the hold; returns whether it wrote. */
  private boolean process(String key, int p, long grantToken, DemoLedger.Writer writer)
      throws Exception {
    KeyGuard g;
    try {
      g = rebalancer.guard(key, LockMode.EXCLUSIVE, Duration.ofMillis(200));
    } catch (LockTimeoutException | IllegalStateException e) {
      return false; // contested, or no longer ours: the next pass sees
    }
    long opened = System.nanoTime();
    long session = session();
    long token = g.token();
    // Until when the library says the guard is valid (its session lease), as last read.
    long validUntil = opened + g.remainingNanos();
    AtomicLong lost = new AtomicLong(Long.MAX_VALUE);
    if (g.lock() != null) {
      // The library voids a lock by reporting it LOST: the hold ends there for the history.
      g.lock().onLost(() -> lost.compareAndSet(Long.MAX_VALUE, System.nanoTime()));
    }
    boolean ok;
    boolean pausedHere = false;
    boolean lockLost;
    try {
      sessions.add(session);
      if (token != grantToken) {
        writer.issuedKey(key, token); // a lock's token, or the owner's above a foreign lock
      }
      CountDownLatch pause = paused;
      if (pause != null) {
        recorder.parked(key, token);
        pause.await(1, TimeUnit.MINUTES); // wakes up still believing it holds the key
        pausedHere = true;
      }
      long before = System.nanoTime();
      long remaining = g.remainingNanos();
      if (remaining > 0) {
        validUntil = Math.max(validUntil, before + remaining);
      }
      ok = writer.write(key, id, token, g.fastPath());
      lockLost = !ok && g.lock() != null && g.lock().state() == LockState.LOST;
    } finally {
      // The hold ends when the holder stops acting, as it releases (a lock's successor may be
      // granted before the release's reply is back); and when the guard is no longer valid by
      // then, at the end of the validity the library last stated for it: past its lease, only
      // fencing stops a holder (a paused one, here), which the ledger counts.
      boolean valid = g.isValid();
      long closed = System.nanoTime();
      g.close();
      long end = valid || validUntil - closed > 0 ? closed : validUntil;
      end = lost.get() - end < 0 ? lost.get() : end;
      end = end - opened < 0 ? opened : end; // a guard given already invalid: the instant it was
      recorder.guard(session, key, p, token, g.fastPath(), opened, end);
    }
    (ok ? accepted : rejected).incrementAndGet();
    if (!ok) {
      String cause =
          pausedHere || (lastFreezeEnd != 0 && lastFreezeEnd - opened > 0)
              ? "paused"
              : lockLost ? "lost" : sessionGone(session) ? "expired" : "unexplained";
      sink.stale(key, token, cause);
    }
    return true;
  }

  /** Whether the client has left a session, waiting up to twice the session timeout for it. */
  private boolean sessionGone(long session) throws InterruptedException {
    long deadline = System.nanoTime() + 2 * sessionNanos;
    while (System.nanoTime() < deadline) {
      long now = session();
      if (now != 0 && now != session) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  /** Pauses the worker in its next guard-to-write window, until {@link #resume}. */
  void pause() {
    paused = new CountDownLatch(1);
  }

  /** Lets a paused worker write, with whatever it believed before. */
  void resume() {
    CountDownLatch pause = paused;
    paused = null;
    if (pause != null) {
      pause.countDown();
    }
  }

  @Override
  public void onAssigned(List<Grant> grants) {
    for (Grant g : grants) {
      toIssue.merge(g.partition(), g.token(), Math::max);
    }
  }

  /**
   * The library voided the worker's holds: every session it held them in ends here for the history
   * (a new session's holds begin after it).
   */
  @Override
  public void onLost(Set<Integer> partitions) {
    long at = System.nanoTime();
    for (Long s : List.copyOf(sessions)) {
      recorder.withdrawn(s, at);
      sessions.remove(s);
    }
  }

  /** Returns a listener that tells {@code first}, then this. */
  OwnershipListener after(OwnershipListener first) {
    DemoWork self = this;
    return new OwnershipListener() {
      @Override
      public void onAssigned(List<Grant> grants) {
        first.onAssigned(grants);
        self.onAssigned(grants);
      }

      @Override
      public void onRevoked(Set<Integer> partitions) {
        first.onRevoked(partitions);
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
