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
import io.ringwork.membership.ZooKeeperExtension;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>The history records what each holder (member id and ZooKeeper session: an incarnation, not an
 * id) saw as valid, each observation as the interval of the call that returned it. For every
 * resource (a partition grant, a key), a holder with a lower token that was certainly still acting
 * after a holder with a higher token certainly had started is a failure; nothing is excused. The
 * ledger keeps, per key, the highest token ever issued (observed by any holder) and the highest
 * accepted, and counts an accepted write whose token is below one already issued as a stale write
 * accepted. After the runs, the leak check of {@link ZooKeeperExtension} asserts that no ephemeral
 * node and no watch is left.
 *
 * <p>The build runs {@value #DEFAULT_RUNS} runs per mode; the long run is {@code mvn -B -pl test
 * -am verify -Dtest=ExclusivityFaultRunsTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Dringwork.faultRuns=500} (per mode).
 */
final class ExclusivityFaultRunsTest {

  static final int DEFAULT_RUNS = 10;
  private static final int RUNS = Integer.getInteger("ringwork.faultRuns", DEFAULT_RUNS);
  private static final String GROUP = "faults";
  private static final int P = 32;
  private static final int KEYS = 48;
  private static final Duration SESSION = Duration.ofSeconds(2);

  @RegisterExtension final ZooKeeperExtension zk = ZooKeeperExtension.server();

  private final List<AutoCloseable> open = new ArrayList<>();
  private final List<Worker> workers = new ArrayList<>();
  private final List<Worker> spares = new ArrayList<>();
  private final History history = new History();
  private final Ledger ledger = new Ledger(history);
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
        case EXPIRY -> ZooKeeperExtension.expireSession(victim.rebalancer.curator());
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
    List<String> violations = history.violations();
    System.out.printf(
        "%s: %d fault runs in %d s %s; %d holders observed over %d observations; %d writes"
            + " accepted, %d rejected, %d stale accepted; %d guards abandoned past a drain; %d"
            + " violations%n",
        strategy,
        RUNS,
        seconds,
        counts,
        history.holders(),
        history.observations.get(),
        ledger.accepted.get(),
        ledger.rejected.get(),
        ledger.staleAccepted.get(),
        workers.stream().mapToLong(Worker::abandoned).sum() + spare.abandoned(),
        violations.size());
    assertThat(history.observations.get()).as("the workers did work").isPositive();
    assertThat(violations).as("overlaps in the strict history").isEmpty();
    assertThat(ledger.staleAccepted.get()).as("stale writes accepted").isZero();
  }

  /** The checker itself can fail: an older holder acting after a newer one started is caught. */
  @Test
  void history_olderHolderActsAfterNewerStarted_isAViolation_butHandoverInOrderIsNot() {
    History h = new History();
    h.observe("key k", "a#1", 10, 0, 5);
    h.observe("key k", "b#2", 20, 100, 110);
    h.observe("key k", "a#1", 10, 50, 60); // a acted before b started: fine
    assertThat(h.violations()).isEmpty();
    h.observe("key k", "a#1", 10, 120, 125); // a acted after b certainly started
    assertThat(h.violations()).singleElement().asString().contains("a#1 with token 10");
    History same = new History();
    same.observe("partition 3", "a#1", 7, 0, 1);
    same.observe("partition 3", "a#9", 7, 2, 3); // two incarnations of one id, one token
    assertThat(same.violations()).isNotEmpty();
    Ledger ledger = new Ledger(same);
    ledger.write("x", 5);
    History issued = new History();
    issued.observe("key x", "b#2", 20, 0, 1);
    Ledger fenced = new Ledger(issued);
    fenced.write("x", 10); // accepted (nothing accepted yet) but below the issued 20: stale
    assertThat(fenced.staleAccepted.get()).isEqualTo(1);
    fenced.write("x", 20);
    fenced.write("x", 10);
    assertThat(fenced.rejected.get()).isEqualTo(1);
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
                  history.observe(
                      "key " + key,
                      "api#" + Long.toHexString(session),
                      h.token(),
                      before,
                      System.nanoTime());
                  pause(10);
                  long b = System.nanoTime();
                  if (h.state() == LockState.HELD) {
                    history.observe(
                        "key " + key,
                        "api#" + Long.toHexString(session),
                        h.token(),
                        b,
                        System.nanoTime());
                    ledger.write(key, h.token());
                  }
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
        return rebalancer.curator().getZookeeperClient().getZooKeeper().getSessionId();
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
      String holder = id + "#" + Long.toHexString(session());
      long before = System.nanoTime();
      Optional<Grant> g;
      try {
        g = r.grant(key);
      } catch (IllegalStateException closed) {
        return;
      }
      long after = System.nanoTime();
      g.ifPresent(
          grant ->
              history.observe(
                  "partition " + grant.partition(), holder, grant.token(), before, after));
      long b = System.nanoTime();
      try (KeyGuard guard = r.guard(key, LockMode.EXCLUSIVE, Duration.ofMillis(300))) {
        history.observe("key " + key, holder, guard.token(), b, System.nanoTime());
        if (hangGuard && guard.fastPath()) {
          pause(1500); // hung past the revoke deadline, across a move
        }
        long c = System.nanoTime();
        if (guard.isValid()) {
          history.observe("key " + key, holder, guard.token(), c, System.nanoTime());
          ledger.write(key, guard.token());
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

  // ---------------------------------------------------------------- the checkers

  /**
   * A strict history: per resource and holder (incarnation) and token, when the holder first and
   * last saw itself valid, each as the interval of the call that said so.
   */
  static final class History {
    final AtomicLong observations = new AtomicLong();
    private final Map<String, Map<String, Span>> byResource = new ConcurrentHashMap<>();

    /** A holder's observations of one token: first start/end, last start/end. */
    static final class Span {
      final String holder;
      final long token;
      long firstStart = Long.MAX_VALUE;
      long firstEnd = Long.MAX_VALUE;
      long lastStart = Long.MIN_VALUE;

      Span(String holder, long token) {
        this.holder = holder;
        this.token = token;
      }
    }

    void observe(String resource, String holder, long token, long start, long end) {
      observations.incrementAndGet();
      Map<String, Span> spans =
          byResource.computeIfAbsent(resource, r -> new ConcurrentHashMap<>());
      Span s = spans.computeIfAbsent(holder + "/" + token, k -> new Span(holder, token));
      synchronized (s) {
        if (start < s.firstStart) {
          s.firstStart = start;
          s.firstEnd = end;
        }
        s.lastStart = Math.max(s.lastStart, start);
      }
    }

    long maxToken(String resource) {
      Map<String, Span> spans = byResource.get(resource);
      long max = 0;
      if (spans != null) {
        for (Span s : spans.values()) {
          max = Math.max(max, s.token);
        }
      }
      return max;
    }

    int holders() {
      return byResource.values().stream().mapToInt(Map::size).sum();
    }

    /**
     * A holder with a lower token certainly still acting after a holder of another incarnation with
     * a higher token certainly started; equal tokens of two incarnations. Nothing is excused.
     */
    List<String> violations() {
      List<String> found = new ArrayList<>();
      for (Map.Entry<String, Map<String, Span>> e : byResource.entrySet()) {
        List<Span> spans = new ArrayList<>(e.getValue().values());
        for (Span older : spans) {
          for (Span newer : spans) {
            if (older.holder.equals(newer.holder)) {
              continue;
            }
            if (older.token == newer.token
                || (older.token < newer.token && older.lastStart > newer.firstEnd)) {
              found.add(
                  String.format(
                      "%s: %s with token %d acted %.1f ms after %s with token %d started",
                      e.getKey(),
                      older.holder,
                      older.token,
                      (older.lastStart - newer.firstEnd) / 1e6,
                      newer.holder,
                      newer.token));
            }
          }
        }
      }
      return found;
    }
  }

  /** A fenced store: highest accepted per key; a write below a token already issued is stale. */
  static final class Ledger {
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger rejected = new AtomicInteger();
    final AtomicInteger staleAccepted = new AtomicInteger();
    private final Map<String, Long> highest = new ConcurrentHashMap<>();
    private final History history;

    Ledger(History history) {
      this.history = history;
    }

    synchronized void write(String key, long token) {
      long issued = history.maxToken("key " + key);
      if (token < highest.getOrDefault(key, 0L)) {
        rejected.incrementAndGet();
        return;
      }
      highest.put(key, token);
      accepted.incrementAndGet();
      if (token < issued) {
        staleAccepted.incrementAndGet();
      }
    }
  }
}
