package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import io.ringwork.test.StrictHistory;
import io.ringwork.test.StrictHistory.Incarnation;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The owner fast path against foreign locks (DESIGN guarantee 4), on a real server. */
final class GuardTest {

  private static final int P = 16;
  private static final Duration STABLE = RingworkZooKeeper.scaled(Duration.ofSeconds(20));

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final List<AutoCloseable> open = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() throws Exception {
    pool.shutdownNow();
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private static Duration w(long ms) {
    return RingworkZooKeeper.scaled(Duration.ofMillis(ms));
  }

  private final MetricRegistry registry = new MetricRegistry();

  private Rebalancer worker(String id) throws InterruptedException {
    return worker(id, KeyRouter.wholeKey());
  }

  private Rebalancer worker(String id, KeyRouter router) throws InterruptedException {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("conductors")
            .member(Member.of(id))
            .router(router)
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(3))
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(1))
            .metrics(registry)
            .build();
    open.add(0, r);
    r.start();
    assertThat(r.awaitStable(STABLE)).isTrue();
    return r;
  }

  /** A lock service of a process that is not a member: an API call, an admin tool. */
  private KeyLocks foreign(String id) {
    return foreign(id, KeyRouter.wholeKey());
  }

  private KeyLocks foreign(String id, KeyRouter router) {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .sessionTimeoutMs(3000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5, 500))
            .ensembleTracker(false)
            .build();
    c.start();
    KeyLocks l =
        KeyLocks.newBuilder().client(c).group("conductors").memberId(id).router(router).build();
    open.add(0, c);
    open.add(0, l);
    l.start();
    return l;
  }

  /** Waits until the owner's guard of a key takes the fast path (its partition's locks listed). */
  private static KeyGuard fastGuard(Rebalancer r, String key) throws Exception {
    long deadline = System.nanoTime() + w(10_000).toNanos();
    while (true) {
      KeyGuard g = r.guard(key, LockMode.EXCLUSIVE, w(5000));
      if (g.fastPath()) {
        return g;
      }
      g.close();
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no fast path for " + key + " on " + r.memberId());
      }
      Thread.sleep(5);
    }
  }

  private long packetsReceived() throws Exception {
    try (Socket s = new Socket("127.0.0.1", zk.port())) {
      OutputStream out = s.getOutputStream();
      out.write("mntr".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String[] kv = line.split("\t");
        if (kv.length == 2 && kv[0].equals("zk_packets_received")) {
          return Long.parseLong(kv[1].trim());
        }
      }
    }
    throw new IllegalStateException("mntr gave no zk_packets_received");
  }

  /**
   * The requests the server has received on one session's connection (four-letter {@code cons}).
   */
  private long receivedFrom(long sessionId) throws Exception {
    String sid = "sid=0x" + Long.toHexString(sessionId) + ",";
    try (Socket s = new Socket("127.0.0.1", zk.port())) {
      OutputStream out = s.getOutputStream();
      out.write("cons".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        int at = line.indexOf("recved=");
        if (line.contains(sid) && at >= 0) {
          return Long.parseLong(line.substring(at + 7, line.indexOf(',', at)));
        }
      }
    }
    throw new IllegalStateException("cons listed no connection of session " + sid);
  }

  /**
   * The owner answers a foreign lock with one write (its yield) and forgets it with one background
   * delete of that yield, both from the request's events: no listing of the queue. Before, each
   * lock cost the owner four requests (a listing and the yield when it came, a listing and the
   * delete when it went), 80 for these 20 locks.
   */
  @Test
  void foreignLocks_ownerAnswersFromTheEvents_oneWriteEachWay() throws Exception {
    Rebalancer owner = worker("w1");
    KeyLocks api = foreign("api");
    fastGuard(owner, "node-3").close();
    api.acquire("node-3", LockMode.EXCLUSIVE, w(10_000)).release(); // creates the queue
    fastGuard(owner, "node-3").close();
    long session = owner.curator().getZookeeperClient().getZooKeeper().getSessionId();
    long before = receivedFrom(session);
    int locks = 20;
    for (int i = 0; i < locks; i++) {
      api.acquire("node-3", LockMode.EXCLUSIVE, w(10_000)).release();
    }
    fastGuard(owner, "node-3").close(); // the owner has seen the last release
    long sent = receivedFrom(session) - before;
    // 2 per lock; the margin (10) is for the owner's pings, one per idle second of its 3 s session,
    // so that a loaded machine (load average 10+) that stretches the loop does not fail it.
    assertThat(sent)
        .as("requests of the owner's session for %d foreign locks", locks)
        .isBetween((long) locks, 2L * locks + 10);
  }

  @Test
  void ownerGuard_fastPath_sendsNoZooKeeperRequest() throws Exception {
    Rebalancer r = worker("w1");
    fastGuard(r, "node-1").close();
    long grant = r.grant("node-1").orElseThrow().token();
    long before = packetsReceived();
    for (int i = 0; i < 10_000; i++) {
      try (KeyGuard g = r.guard("node-" + (i % 100), LockMode.EXCLUSIVE)) {
        assertThat(g.fastPath()).isTrue();
        assertThat(g.token()).isGreaterThanOrEqualTo(grant);
      }
    }
    long after = packetsReceived();
    // Only the session's pings (one per second at most here), and the mntr connection itself.
    assertThat(after - before).as("packets the server received").isLessThan(10);
  }

  private long serverWatches() throws Exception {
    try (Socket s = new Socket("127.0.0.1", zk.port())) {
      OutputStream out = s.getOutputStream();
      out.write("wchs".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.startsWith("Total watches:")) {
          return Long.parseLong(line.substring("Total watches:".length()).trim());
        }
      }
    }
    throw new IllegalStateException("wchs gave no total");
  }

  @Test
  void watches_dependOnOwnedPartitions_notOnLockedKeys() throws Exception {
    Rebalancer owner = worker("w1");
    KeyLocks api = foreign("api");
    fastGuard(owner, "node-0").close();
    long before = serverWatches();
    for (int i = 0; i < 50; i++) {
      api.acquire("node-" + i, LockMode.EXCLUSIVE, w(10_000)).release();
    }
    for (int i = 0; i < 50; i++) {
      fastGuard(owner, "node-" + i).close(); // every key back on the fast path
    }
    assertThat(serverWatches()).as("watches after 50 keys were locked").isEqualTo(before);
  }

  @Test
  void foreignLock_waitsForTheOwnersGuard_thenTheOwnerResumesAboveItsToken() throws Exception {
    Rebalancer owner = worker("w1");
    KeyLocks api = foreign("api");
    KeyGuard g = fastGuard(owner, "node-7");
    long ownerToken = g.token();
    Future<LockHandle> f = pool.submit(() -> api.acquire("node-7", LockMode.EXCLUSIVE, w(10_000)));
    await().during(Duration.ofMillis(300)).atMost(w(3000)).until(() -> !f.isDone());
    g.close(); // the owner finishes its work on the key: now it yields
    LockHandle h = f.get(10, TimeUnit.SECONDS);
    assertThat(h.token()).isGreaterThan(ownerToken);
    // While the foreign lock stands, the owner's guard of that key goes through the lock...
    assertThatThrownBy(() -> owner.guard("node-7", LockMode.EXCLUSIVE, Duration.ofMillis(300)))
        .isInstanceOf(LockTimeoutException.class)
        .hasMessageContaining("holder api");
    // ...and other keys keep the fast path.
    try (KeyGuard other = owner.guard("node-8", LockMode.EXCLUSIVE)) {
      assertThat(other.fastPath()).isTrue();
    }
    h.release();
    try (KeyGuard back = fastGuard(owner, "node-7")) {
      assertThat(back.token()).isGreaterThan(h.token());
    }
    String prefix = "ringwork.conductors.w1.locks.";
    assertThat(registry.counter(prefix + "guards.fast").getCount()).isGreaterThan(1);
    assertThat(registry.counter(prefix + "guards.locked").getCount()).isGreaterThanOrEqualTo(1);
    assertThat(registry.counter(prefix + "yields").getCount()).isGreaterThanOrEqualTo(2);
    assertThat(registry.counter(prefix + "timeouts").getCount()).isEqualTo(1);
  }

  /**
   * Keys of one routing key share a queue. A foreign lock released while another key of its queue
   * stays locked must still raise the owner's token for the released key: the owner's fast path
   * comes back for it with the queue not empty. Failed before: the token rose only when the whole
   * queue emptied, so the owner wrote below the lock's token and a fenced store refused it.
   */
  @Test
  void foreignLockReleased_whileItsQueueHoldsAnotherKey_theOwnerResumesAboveIt() throws Exception {
    Rebalancer owner = worker("w1", KeyRouter.upTo('/'));
    KeyLocks api = foreign("api", KeyRouter.upTo('/'));
    fastGuard(owner, "stack-1/a").close();
    LockHandle b = api.acquire("stack-1/b", LockMode.EXCLUSIVE, w(10_000));
    LockHandle a = api.acquire("stack-1/a", LockMode.EXCLUSIVE, w(10_000));
    a.release();
    try (KeyGuard back = fastGuard(owner, "stack-1/a")) {
      assertThat(back.token()).as("owner token after the lock of the key").isGreaterThan(a.token());
    }
    assertThat(b.state()).isEqualTo(LockState.HELD);
    b.release();
    try (KeyGuard back = fastGuard(owner, "stack-1/b")) {
      assertThat(back.token()).isGreaterThan(b.token());
    }
  }

  @Test
  void hungOwner_theRequestTimesOut_andNothingIsStolen() throws Exception {
    Rebalancer owner = worker("w1");
    KeyLocks api = foreign("api");
    KeyGuard g = fastGuard(owner, "node-3");
    assertThatThrownBy(() -> api.acquire("node-3", LockMode.EXCLUSIVE, Duration.ofMillis(500)))
        .isInstanceOf(LockTimeoutException.class)
        .hasMessageContaining("owner of partition")
        .hasMessageContaining("owner busy since")
        .hasMessageContaining("never taken");
    g.ensureValid();
    // Inspection says what a waiting request waits for: the owner, not a holder.
    Future<LockHandle> f = pool.submit(() -> api.acquire("node-3", LockMode.EXCLUSIVE, w(10_000)));
    await()
        .atMost(w(5000))
        .untilAsserted(
            () ->
                assertThat(api.inspect("node-3").waiters())
                    .singleElement()
                    .satisfies(i -> assertThat(i.waitingFor()).isEqualTo("the owner's yield")));
    assertThat(api.inspect("node-3").holders()).isEmpty();
    g.close();
    f.get(10, TimeUnit.SECONDS).release();
  }

  @Test
  void lockHeldAcrossAPartitionMove_theNewOwnerKeepsOffTheKey() throws Exception {
    Rebalancer a = worker("a");
    KeyLocks api = foreign("api");
    fastGuard(a, "node-5").close();
    LockHandle h = api.acquire("node-5", LockMode.EXCLUSIVE, w(10_000));
    Rebalancer b = worker("b");
    a.drain(w(10_000));
    assertThat(b.awaitStable(STABLE)).isTrue();
    assertThat(b.grant("node-5")).isPresent();
    // b activated after the lock was taken: it listed it, so its guard of the key waits.
    assertThatThrownBy(() -> b.guard("node-5", LockMode.EXCLUSIVE, Duration.ofMillis(300)))
        .isInstanceOf(LockTimeoutException.class);
    h.release();
    try (KeyGuard back = fastGuard(b, "node-5")) {
      assertThat(back.token()).isGreaterThan(h.token());
    }
  }

  @Test
  void ownerCrashesWhileAForeignRequestWaits_theNextOwnerYields() throws Exception {
    Rebalancer a = worker("a");
    Rebalancer b = worker("b");
    assertThat(a.awaitStable(STABLE)).isTrue();
    Rebalancer owner = a.grant("node-9").isPresent() ? a : b;
    Rebalancer other = owner == a ? b : a;
    KeyLocks api = foreign("api");
    KeyGuard hung = fastGuard(owner, "node-9");
    Future<LockHandle> f = pool.submit(() -> api.acquire("node-9", LockMode.EXCLUSIVE, w(20_000)));
    await().during(Duration.ofMillis(200)).atMost(w(3000)).until(() -> !f.isDone());
    long crashed = System.nanoTime();
    owner.crashForTest();
    LockHandle h = f.get(20, TimeUnit.SECONDS);
    Duration took = Duration.ofNanos(System.nanoTime() - crashed);
    assertThat(took).as("session timeout + 1 s").isLessThan(w(4000));
    assertThat(h.token()).isGreaterThan(hung.token());
    assertThat(other.grant("node-9")).isPresent();
    h.release();
    hung.close();
  }

  @Test
  void ownerFastPathAndForeignLocks_randomized_neverInterleave() throws Exception {
    Rebalancer owner = worker("w1");
    KeyLocks api1 = foreign("api1");
    KeyLocks api2 = foreign("api2");
    List<String> keys = List.of("k0", "k1", "k2", "k3");
    for (String k : keys) {
      fastGuard(owner, k).close();
    }
    Map<String, AtomicInteger> inUse = new ConcurrentHashMap<>();
    Map<String, Long> ledger = new ConcurrentHashMap<>();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger stale = new AtomicInteger();
    AtomicInteger foreignHolds = new AtomicInteger();
    AtomicInteger fastHolds = new AtomicInteger();
    keys.forEach(k -> inUse.put(k, new AtomicInteger()));
    // Every hold per incarnation; no session ends here, so no overlap is excused at all.
    StrictHistory history = StrictHistory.create();
    Incarnation ownerIncarnation =
        new Incarnation("w1", owner.curator().getZookeeperClient().getZooKeeper().getSessionId());
    long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
    List<Future<?>> runs = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      int seed = t;
      // Owner threads work on disjoint keys: guards exclude other members, not the owner's threads.
      List<String> mine = List.of(keys.get(2 * t), keys.get(2 * t + 1));
      runs.add(
          pool.submit(
              () -> {
                Random rnd = new Random(seed);
                while (System.nanoTime() < end) {
                  String k = mine.get(rnd.nextInt(2));
                  try (KeyGuard g = owner.guard(k, LockMode.EXCLUSIVE, w(10_000))) {
                    StrictHistory.Hold hold =
                        history.guardOpened(
                            ownerIncarnation,
                            k,
                            g.partition(),
                            StrictHistory.Mode.EXCLUSIVE,
                            g.token(),
                            g.fastPath());
                    work(k, g.token(), inUse, ledger, overlaps, stale);
                    hold.close();
                    if (g.fastPath()) {
                      fastHolds.incrementAndGet();
                    }
                  }
                }
                return null;
              }));
    }
    for (KeyLocks api : List.of(api1, api2)) {
      runs.add(
          pool.submit(
              () -> {
                Random rnd = new Random(api.memberId().hashCode());
                while (System.nanoTime() < end) {
                  String k = keys.get(rnd.nextInt(keys.size()));
                  try (LockHandle h = api.acquire(k, LockMode.EXCLUSIVE, w(10_000))) {
                    StrictHistory.Hold hold =
                        history.lockAcquired(
                            new Incarnation(api.memberId(), 0),
                            k,
                            StrictHistory.Mode.EXCLUSIVE,
                            h.token());
                    work(k, h.token(), inUse, ledger, overlaps, stale);
                    hold.close();
                    foreignHolds.incrementAndGet();
                  }
                  Thread.sleep(rnd.nextInt(20));
                }
                return null;
              }));
    }
    for (Future<?> f : runs) {
      f.get(60, TimeUnit.SECONDS);
    }
    assertThat(overlaps).as("owner and foreign holds on one key at once").hasValue(0);
    history.assertStrict(Duration.ZERO);
    assertThat(stale).as("writes the ledger refused").hasValue(0);
    assertThat(foreignHolds.get()).isGreaterThan(10);
    assertThat(fastHolds.get()).isGreaterThan(10);
  }

  private static void work(
      String key,
      long token,
      Map<String, AtomicInteger> inUse,
      Map<String, Long> ledger,
      AtomicInteger overlaps,
      AtomicInteger stale)
      throws InterruptedException {
    if (inUse.get(key).incrementAndGet() != 1) {
      overlaps.incrementAndGet();
    }
    ledger.compute(
        key,
        (k, seen) -> {
          if (seen != null && token < seen) {
            stale.incrementAndGet();
            return seen;
          }
          return token;
        });
    Thread.sleep(1);
    inUse.get(key).decrementAndGet();
  }
}
