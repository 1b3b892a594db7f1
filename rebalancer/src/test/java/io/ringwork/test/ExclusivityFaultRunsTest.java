package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockRequest;
import io.ringwork.lock.LockState;
import io.ringwork.membership.FaultProxy;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import io.ringwork.ring.Member;
import io.ringwork.ring.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Randomized fault runs of a live group against a real server, checked by a strict history and a
 * fenced ledger (issue 18). Three workers, each behind its own {@link FaultProxy}, guard and write
 * random keys all the time; a foreign lock client locks keys; each run injects one fault and waits
 * for the group to settle: a silent partition until the server expires the member, an instant
 * expiry, lost replies, a move (a fourth worker joins or leaves) with {@code onRevoked} blocked
 * past its deadline, a move with a fast guard hung past the revoke deadline, or a plain move.
 *
 * <p>{@link StrictHistory} records what each holder (member id and ZooKeeper session: an
 * incarnation, not an id) was told it held: every grant read, every guard from open to the end of
 * its write, every foreign lock. It excuses an overlap only after a session the test closed from
 * outside (an instant expiry, which no lease can foresee), within the lease bound, and with a
 * higher token for the successor; after a real expiry (the silent partition) nothing is excused,
 * because the lease must stop the member before the server can expire it. {@link FencedStore}
 * keeps, per key, the highest token issued and accepted, and counts an accepted write below an
 * issued token as a stale write accepted. After the runs, the leak check of {@link
 * RingworkZooKeeper} asserts that no ephemeral node and no watch is left.
 *
 * <p>The build runs {@value #DEFAULT_RUNS} runs per mode; the long run is {@code mvn -B -pl
 * rebalancer -am verify -Dtest=ExclusivityFaultRunsTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dringwork.faultRuns=500} (per mode).
 */
final class ExclusivityFaultRunsTest {

  static final int DEFAULT_RUNS = 10;
  private static final int RUNS = Integer.getInteger("ringwork.faultRuns", DEFAULT_RUNS);
  private static final String GROUP = "faults";
  private static final int P = 32;
  private static final int KEYS = 48;
  private static final Duration SESSION = Duration.ofSeconds(2);
  private static final long LEASE_BOUND_NANOS = SESSION.toNanos() * 9 / 10;

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final List<AutoCloseable> open = new ArrayList<>();
  private final List<Worker> workers = new ArrayList<>();
  private final List<Worker> spares = new ArrayList<>();
  // Excuses an overlap only after a session the test closed from outside (an instant expiry):
  // after a real expiry (the silent partition) the lease must have stopped the member first.
  private final StrictHistory strict = StrictHistory.create().excusingOnlyForcedEnds();
  private final FencedStore store = new FencedStore();
  private final AtomicInteger skipped = new AtomicInteger();
  private volatile boolean stop;
  private final List<Thread> threads = new ArrayList<>();

  enum Fault {
    SILENT_PARTITION,
    EXPIRY,
    LOST_REPLIES,
    BLOCKED_REVOKE_MOVE,
    HUNG_GUARD_MOVE,
    MOVE
  }

  @AfterEach
  void tearDown() throws Exception {
    stop = true;
    for (Thread t : threads) {
      t.join(10_000);
    }
    for (Worker w : workers) {
      w.close();
    }
    for (Worker w : spares) {
      w.close();
    }
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  @Test
  void coordinated_randomFaults_noOverlapNoStaleWriteNothingLeft() throws Exception {
    runs(Strategy.BALANCED, 1);
  }

  @Test
  void leaderless_randomFaults_noOverlapNoStaleWriteNothingLeft() throws Exception {
    runs(Strategy.RENDEZVOUS, 2);
  }

  private void runs(Strategy strategy, long seed) throws Exception {
    Random random = new Random(seed);
    for (int i = 0; i < 3; i++) {
      workers.add(new Worker("w" + i, strategy));
    }
    Worker spare = new Worker("w3", strategy);
    spares.add(spare);
    for (Worker w : workers) {
      w.start();
    }
    awaitStable(workers);
    // Its own client: the session ends and its watch with it when the test closes it.
    CuratorFramework watcher = client(zk.connectString(), Duration.ofSeconds(4));
    open.add(0, watcher);
    open.add(0, strict.watchSessions(watcher, "/ringwork/" + GROUP + "/members"));
    for (Worker w : workers) {
      startWork(w, random.nextLong());
    }
    KeyLocks api = foreignLocks();
    startForeign(api, random.nextLong());

    Map<Fault, Integer> counts = new EnumMap<>(Fault.class);
    long started = System.nanoTime();
    for (int run = 0; run < RUNS; run++) {
      Fault f = Fault.values()[random.nextInt(Fault.values().length)];
      counts.merge(f, 1, Integer::sum);
      Worker victim = workers.get(random.nextInt(workers.size()));
      switch (f) {
        case SILENT_PARTITION -> silentPartition(victim);
        case EXPIRY -> {
          StrictHistory.Incarnation closed =
              new StrictHistory.Incarnation(victim.id, victim.session());
          long before = System.nanoTime();
          try {
            RingworkZooKeeper.expire(RebalancerInternals.curator(victim.rebalancer));
            strict.sessionClosed(closed, 0, before);
          } catch (IllegalStateException e) {
            skipped.incrementAndGet(); // could not attach to the session (it was reconnecting)
          }
        }
        case LOST_REPLIES -> {
          victim.proxy.loseReplies(300);
          move(spare);
        }
        case BLOCKED_REVOKE_MOVE -> {
          workers.forEach(w -> w.blockRevoke = true);
          move(spare);
        }
        case HUNG_GUARD_MOVE -> {
          workers.forEach(w -> w.hangGuard = true);
          move(spare);
        }
        case MOVE -> move(spare);
      }
      List<Worker> live = new ArrayList<>(workers);
      if (spare.rebalancer != null) {
        live.add(spare);
      }
      awaitStable(live);
      workers.forEach(w -> w.blockRevoke = false);
      workers.forEach(w -> w.hangGuard = false);
    }
    stop = true;
    for (Thread t : threads) {
      t.join(10_000);
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
    List<String> violations = strict.violations(Duration.ofNanos(LEASE_BOUND_NANOS));
    System.out.printf(
        "%s: %d fault runs in %d s %s (%d expiries could not attach); StrictHistory over %d"
            + " holds: %d violations, %d overlaps excused %s; FencedStore: %d accepted, %d"
            + " rejected, %d stale accepted; %d guards abandoned past a drain%n",
        strategy,
        RUNS,
        seconds,
        counts,
        skipped.get(),
        strict.size(),
        violations.size(),
        strict.excused().size(),
        strict.excused(),
        store.accepted(),
        store.rejected(),
        store.staleAccepted(),
        workers.stream().mapToLong(Worker::abandoned).sum() + spare.abandoned());
    assertThat(store.accepted()).as("the workers did work").isPositive();
    assertThat(violations).as("StrictHistory").isEmpty();
    assertThat(store.staleAccepted()).as("FencedStore stale accepted").isZero();
  }

  // ---------------------------------------------------------------- faults

  private void silentPartition(Worker w) throws Exception {
    String node = "/ringwork/" + GROUP + "/members/" + w.id;
    long sessionBefore = w.session();
    w.proxy.blackhole(true);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    // Until the server has expired it: the member node of that session is gone.
    while (System.nanoTime() < deadline) {
      var stat = zk.client().checkExists().forPath(node);
      if (stat == null || stat.getEphemeralOwner() != sessionBefore) {
        break;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    w.proxy.blackhole(false);
  }

  private void move(Worker spare) throws Exception {
    if (spare.rebalancer == null) {
      spare.start();
    } else {
      spare.stop();
    }
  }

  private void awaitStable(List<Worker> live) throws InterruptedException {
    for (Worker w : live) {
      if (!w.rebalancer.awaitStable(Duration.ofSeconds(30))) {
        throw new AssertionError(w.id + " did not settle: " + w.rebalancer.state());
      }
    }
  }

  // ---------------------------------------------------------------- work

  private void startWork(Worker w, long seed) {
    Thread t =
        new Thread(
            () -> {
              Random r = new Random(seed);
              while (!stop) {
                w.workOnce("k" + r.nextInt(KEYS));
                pause(1);
              }
            },
            "work-" + w.id);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  private CuratorFramework apiClient;

  private KeyLocks foreignLocks() {
    CuratorFramework c = client(zk.connectString(), Duration.ofSeconds(4));
    apiClient = c;
    KeyLocks l = KeyLocks.newBuilder().client(c).group(GROUP).memberId("api").build();
    open.add(0, c);
    open.add(0, l);
    l.start();
    return l;
  }

  private void startForeign(KeyLocks api, long seed) {
    Thread t =
        new Thread(
            () -> {
              Random r = new Random(seed);
              while (!stop) {
                String key = "k" + r.nextInt(KEYS);
                long session = sessionOf(api);
                long before = System.nanoTime();
                try (LockHandle h =
                    api.acquire(
                        LockRequest.of(key, LockMode.EXCLUSIVE)
                            .withTimeout(Duration.ofMillis(500)))) {
                  long acquired = System.nanoTime();
                  StrictHistory.Hold hold =
                      strict.lockAcquired(
                          new StrictHistory.Incarnation("api", session),
                          key,
                          StrictHistory.Mode.EXCLUSIVE,
                          h.token(),
                          acquired);
                  store.issued("key " + key, h.token());
                  pause(10);
                  if (h.state() == LockState.HELD) {
                    store.write("key " + key, h.token());
                  }
                  hold.close(System.nanoTime());
                } catch (Exception e) {
                  // timed out or lost to a fault: nothing was written
                }
                pause(40);
              }
            },
            "foreign");
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  private long sessionOf(KeyLocks l) {
    try {
      return apiClient.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return 0;
    }
  }

  private static void pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static CuratorFramework client(String connect, Duration session) {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs((int) session.toMillis())
            .retryPolicy(new ExponentialBackoffRetry(50, 5, 500))
            .ensembleTracker(false)
            .build();
    c.start();
    return c;
  }

  /** One worker: its own proxy and rebalancer, whose onRevoked can be made to block. */
  private final class Worker {
    final String id;
    final Strategy strategy;
    final FaultProxy proxy;
    volatile Rebalancer rebalancer;
    volatile boolean blockRevoke;
    volatile boolean hangGuard;
    private final MetricRegistry metrics = new MetricRegistry();

    Worker(String id, Strategy strategy) throws Exception {
      this.id = id;
      this.strategy = strategy;
      this.proxy = FaultProxy.to(zk.connectString());
    }

    void start() {
      Rebalancer r =
          Rebalancer.newBuilder()
              .group(GROUP)
              .member(Member.of(id))
              .connectString(proxy.connectString())
              .sessionTimeout(SESSION)
              .strategy(strategy)
              .partitions(P)
              .settleDelay(Duration.ofMillis(30))
              .revokeDeadline(Duration.ofMillis(600))
              .metrics(metrics)
              .listener(
                  new OwnershipListener() {
                    @Override
                    public void onRevoked(Set<Integer> partitions) {
                      if (blockRevoke) {
                        pause(1000); // past the revoke deadline
                      }
                    }
                  })
              .build();
      r.start();
      rebalancer = r;
    }

    long session() {
      try {
        return RebalancerInternals.curator(rebalancer)
            .getZookeeperClient()
            .getZooKeeper()
            .getSessionId();
      } catch (Exception e) {
        return 0;
      }
    }

    /** Fast guards a drain gave up on (invalidated), from the lock service's metric. */
    long abandoned() {
      return metrics.getCounters().entrySet().stream()
          .filter(e -> e.getKey().endsWith("guards.abandoned"))
          .mapToLong(e -> e.getValue().getCount())
          .sum();
    }

    void workOnce(String key) {
      Rebalancer r = rebalancer;
      if (r == null) {
        return;
      }
      long session = session();
      long before = System.nanoTime();
      Optional<Grant> g;
      try {
        g = r.grant(key);
      } catch (IllegalStateException closed) {
        return;
      }
      StrictHistory.Incarnation inc = new StrictHistory.Incarnation(id, session);
      g.ifPresent(grant -> strict.grantRead(inc, grant.partition(), grant.token(), before));
      try (KeyGuard guard = r.guard(key, LockMode.EXCLUSIVE, Duration.ofMillis(300))) {
        long opened = System.nanoTime();
        StrictHistory.Hold hold =
            strict.guardOpened(
                inc,
                key,
                guard.partition(),
                StrictHistory.Mode.EXCLUSIVE,
                guard.token(),
                guard.fastPath(),
                opened);
        store.issued("key " + key, guard.token());
        if (hangGuard && guard.fastPath()) {
          pause(1500); // hung past the revoke deadline, across a move
        }
        if (guard.isValid()) {
          store.write("key " + key, guard.token());
          hold.close(System.nanoTime());
        } else {
          hold.close(opened); // valid when it opened, not when looked at again: it did nothing
        }
      } catch (Exception e) {
        // a timeout, a closed rebalancer, a lost lock: nothing written
      }
    }

    /** Leaves the group (the spare's move out); it may start again. */
    void stop() {
      Rebalancer r = rebalancer;
      if (r != null) {
        rebalancer = null;
        r.close();
      }
    }

    void close() {
      stop();
      proxy.close();
    }
  }
}
