package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.LockMode;
import io.ringwork.membership.FaultProxy;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import io.ringwork.test.StrictHistory;
import io.ringwork.test.StrictHistory.Incarnation;
import java.io.File;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.util.ServiceUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 18, the session lease's key case on a real three-server ensemble: a member connected only
 * to a follower F whose link to the leader L is cut stops acting before L expires its session.
 *
 * <p>Only the leader expires sessions. F touches the sessions of its clients locally and passes the
 * touches on to L in its answers to L's PINGs, which the cut now loses, so L expires the member's
 * session one session timeout after the last touch that reached it, while F, until its own
 * syncLimit × tickTime runs out, goes on answering its clients (reads, pings). The member's lease
 * renews with synchronous {@code sync()} calls, which F forwards to L: they stop completing at the
 * cut, and the lease ends by itself (see {@code SessionLease}'s class comment).
 *
 * <p>Every server sees each peer's quorum port (the one a follower connects to) through a {@link
 * FaultProxy} of its own, while election ports stay direct; which server leads is found after the
 * start, and F is one of the followers. Cutting F's proxy to L silences exactly the follower link F
 * → L. The member's event threads (ZooKeeper's and the rebalancer's) are blocked before the cut, so
 * that nothing but the lease can stop it.
 *
 * <p>Two ensembles: one whose syncLimit × tickTime (10 s) outlasts the expiry, so that F still
 * serves when L expires the member (the production shape: ZooKeeper's defaults, tickTime 2 s and
 * syncLimit 5, give 10 s, more than many session timeouts), and one with 1 s, where F stops serving
 * soon after the cut. Each prints the times of its run; the margins of five runs are in {@code
 * benchmarks/RESULTS.md}.
 *
 * <p>Timing under load: the order asserted comes from the protocol, not from sleeps. A grant read
 * after the lease's deadline is empty however late it runs, and the deadline falls at least 0.1 T
 * (400 ms) before the earliest expiry in L's clock. A read is stamped when it has returned, so only
 * a reader descheduled between a read and its stamp for longer than the margin could fail the test
 * falsely; the deletion is stamped when a watcher on L hears of it, later than it happened, which
 * only narrows the margin reported. Every wait is bounded and scaled by {@link
 * RingworkZooKeeper#scaled}, and initLimit is 10 s so that a loaded machine (load average 10+)
 * still forms the ensemble.
 */
final class FollowerIsolationTest {

  private static final int P = 16;
  private static final String GROUP = "isolated";
  private static final String MEMBERS = "/ringwork/" + GROUP + "/members";
  private static final int TICK_MILLIS = 250;
  private static final Duration SESSION = Duration.ofSeconds(4);
  private static final Duration STABLE = RingworkZooKeeper.scaled(Duration.ofSeconds(30));

  private final List<AutoCloseable> open = new ArrayList<>();
  private final List<CountDownLatch> blocks = new ArrayList<>();
  private Ensemble ensemble;

  @BeforeAll
  static void allowFourLetterWordsAndNoExit() {
    System.setProperty("zookeeper.4lw.commands.whitelist", "*");
    // A server that cannot bind a port picked for it (taken by another process in between) asks
    // for System.exit, which would end the whole test JVM: log it instead, and Ensemble.start
    // tries again on fresh ports.
    ServiceUtils.setSystemExitProcedure(ServiceUtils.LOG_ONLY);
  }

  @AfterAll
  static void restoreExit() {
    ServiceUtils.setSystemExitProcedure(ServiceUtils.SYSTEM_EXIT);
  }

  @AfterEach
  void tearDown() throws Exception {
    blocks.forEach(CountDownLatch::countDown);
    for (AutoCloseable c : open) {
      c.close();
    }
    if (ensemble != null) {
      ensemble.close();
    }
  }

  /**
   * The key case: F still answers its clients (srvr says follower, another client's reads are
   * answered) when L expires the member, and the member stopped before.
   */
  @Test
  void followerCutOff_stillServing_memberStopsBeforeTheLeaderExpiresIt() throws Exception {
    Run run = isolateOnce(40);
    assertThat(run.followerLastServingMillis())
        .as("F still answered as a follower after L expired the member (%s)", run)
        .isGreaterThan(run.expiredMillis());
    assertThat(run.followerLastReadMillis())
        .as("F still answered a client's read after L expired the member (%s)", run)
        .isGreaterThan(run.expiredMillis());
    assertThat(
            run.followerStoppedServingMillis() == -1
                || run.followerStoppedServingMillis() > run.expiredMillis())
        .as("F did not stop serving before L expired the member (%s)", run)
        .isTrue();
  }

  /**
   * The same cut with syncLimit × tickTime = 1 s: F stops serving soon after the cut (the member's
   * handle may leave CONNECTED before or after its lease ends) and the member still stops before L
   * expires it.
   */
  @Test
  void followerCutOff_stopsServingAfterSyncLimit_memberStopsBeforeTheLeaderExpiresIt()
      throws Exception {
    Run run = isolateOnce(4);
    assertThat(run.followerStoppedServingMillis())
        .as("F stopped serving before L expired the member (%s)", run)
        .isBetween(0L, run.expiredMillis());
  }

  /**
   * What one run saw, in milliseconds after the cut; -1 for what did not happen within the run.
   *
   * @param clientDisconnectedMillis the member's ZooKeeper handle left CONNECTED
   * @param followerStoppedServingMillis F first answered 'srvr' as not serving
   * @param followerLastServingMillis F last answered 'srvr' as a follower (probed every 20 ms)
   * @param followerLastReadMillis F last answered a read of another client of its own
   * @param leaseDeadlineMillis the deadline of the member's last lease
   * @param lastActedMillis the last read that found a grant, an owned partition or a valid guard
   * @param expiredMillis L deleted the member's node (its session expired), as a watcher on L saw
   * @param takenOverMillis the other member held every partition
   */
  record Run(
      int syncLimit,
      long clientDisconnectedMillis,
      long followerStoppedServingMillis,
      long followerLastServingMillis,
      long followerLastReadMillis,
      long leaseDeadlineMillis,
      long lastActedMillis,
      long expiredMillis,
      long takenOverMillis) {

    long marginMillis() {
      return expiredMillis - lastActedMillis;
    }
  }

  private Run isolateOnce(int syncLimit) throws Exception {
    ensemble = Ensemble.start(syncLimit, RingworkZooKeeper.scaled(Duration.ofSeconds(20)));
    int l = ensemble.leader;
    int f = (l + 1) % 3;
    int o = (l + 2) % 3;
    CuratorFramework onLeader = observer(ensemble.connectString(l));

    StrictHistory strict = StrictHistory.create().excusingOnlyForcedEnds();
    AutoCloseable sessions = strict.watchSessions(onLeader, MEMBERS);
    open.add(0, sessions);

    CuratorFramework aClient = memberClient(ensemble.connectString(f));
    CuratorFramework bClient = memberClient(ensemble.connectString(l));
    Rebalancer a = member("a", aClient, strict);
    Rebalancer b = member("b", bClient, strict);
    assertThat(a.awaitStable(STABLE)).as("a stable").isTrue();
    assertThat(b.awaitStable(STABLE)).as("b stable").isTrue();
    Set<Integer> aOwned = awaitOwnsSome(a);
    ZooKeeper aHandle = a.curator().getZookeeperClient().getZooKeeper();
    assertThat(ensemble.cluster.findConnectionInstance(aHandle))
        .as("a is connected to F")
        .isEqualTo(ensemble.specs.get(f));
    assertThat(a.curator().getZookeeperClient().getCurrentConnectionString())
        .as("a's server list")
        .isEqualTo(ensemble.connectString(f));

    // One key per partition a holds, and a fast guard on one of them.
    Map<Integer, String> keys = keysOf(a, aOwned);
    Map<Integer, Long> aTokens = new HashMap<>();
    for (int p : aOwned) {
      aTokens.put(p, a.grant(p).orElseThrow().token());
    }
    String guardedKey = keys.values().iterator().next();
    KeyGuard guard = fastGuard(a, guardedKey);
    long aSession = aHandle.getSessionId();
    StrictHistory.Hold guardHold =
        strict.guardOpened(
            new Incarnation("a", aSession),
            guardedKey,
            guard.partition(),
            StrictHistory.Mode.EXCLUSIVE,
            guard.token(),
            true);

    AtomicLong expiredAt = new AtomicLong();
    String aNode = MEMBERS + "/a";
    onLeader
        .checkExists()
        .usingWatcher(
            (Watcher)
                event -> {
                  if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                    expiredAt.compareAndSet(0, System.nanoTime());
                  }
                })
        .forPath(aNode);

    blockZooKeeperEventThread(a, onLeader);
    blockEventThread(a);

    ZooKeeper onFollower = plainClient(ensemble.connectString(f));
    Reader reader = new Reader(a, keys, guard, aHandle, b, strict, ensemble.clientPort(f));
    reader.onFollower = onFollower;
    reader.start();
    long cutAt = System.nanoTime();
    reader.cutAt = cutAt;
    ensemble.proxy(f, l).blackhole(true);

    long giveUp = cutAt + RingworkZooKeeper.scaled(Duration.ofSeconds(30)).toNanos();
    while ((expiredAt.get() == 0 || !ownsAll(b)) && System.nanoTime() - giveUp < 0) {
      TimeUnit.MILLISECONDS.sleep(2);
    }
    long takenOverAt = ownsAll(b) ? System.nanoTime() : 0;
    long leaseDeadline = a.leaseForTest().deadlineNanos(aSession);
    // Let the reader see a little more of a after the takeover: it must still not act.
    TimeUnit.MILLISECONDS.sleep(200);
    reader.stop();
    guardHold.close(Math.max(reader.lastGuardValid, cutAt));

    Run run =
        new Run(
            syncLimit,
            since(cutAt, reader.clientDisconnected),
            since(cutAt, reader.followerStoppedServing),
            since(cutAt, reader.followerLastServing),
            since(cutAt, reader.followerLastRead),
            leaseDeadline == Long.MIN_VALUE ? -1 : since(cutAt, leaseDeadline),
            since(cutAt, reader.lastActed),
            since(cutAt, expiredAt.get()),
            since(cutAt, takenOverAt));
    System.out.printf(
        "follower isolation (syncLimit x tickTime = %d ms, session %d ms): times after the cut:"
            + " a's client left CONNECTED %d ms, F stopped serving %d ms (last srvr as a follower"
            + " %d ms, last answered a read %d ms), a's lease deadline %d ms,"
            + " a's last grant read %d ms, L expired a %d ms, b held all %d partitions %d ms;"
            + " margin %d ms (a's lease in session 0x%x; F = server %d, L = server %d, O = server"
            + " %d)%n",
        syncLimit * TICK_MILLIS,
        SESSION.toMillis(),
        run.clientDisconnectedMillis(),
        run.followerStoppedServingMillis(),
        run.followerLastServingMillis(),
        run.followerLastReadMillis(),
        run.leaseDeadlineMillis(),
        run.lastActedMillis(),
        run.expiredMillis(),
        P,
        run.takenOverMillis(),
        run.marginMillis(),
        aSession,
        f,
        l,
        o);

    assertThat(reader.failure).as("reader thread").isNull();
    assertThat(expiredAt.get()).as("L expired a's session (%s)", run).isNotZero();
    assertThat(reader.lastActed).as("a acted before the cut").isNotZero();
    assertThat(reader.lastActed - expiredAt.get())
        .as("a's last grant, owned partition or valid guard came before L expired it (%s)", run)
        .isNegative();
    assertThat(a.grant(guardedKey)).isEmpty();
    assertThat(a.ownedPartitions()).isEmpty();
    assertThat(guard.isValid()).isFalse();

    assertThat(takenOverAt).as("b took every partition over (%s)", run).isNotZero();
    for (int p : aOwned) {
      Optional<Grant> g = b.grant(p);
      assertThat(g).as("b holds partition %d", p).isPresent();
      assertThat(g.orElseThrow().token())
          .as("b's token on partition %d above a's", p)
          .isGreaterThan(aTokens.get(p));
    }
    assertThat(strict.violations(Duration.ofSeconds(1)))
        .as("strict history (%d holds; excused: %s)", strict.size(), strict.excused())
        .isEmpty();
    assertThat(strict.excused()).as("nothing excused after a real expiry").isEmpty();

    // Heal the cut, let F rejoin, and leave nothing behind.
    guard.close();
    blocks.forEach(CountDownLatch::countDown);
    ensemble.proxy(f, l).blackhole(false);
    ensemble.awaitServing(f, STABLE);
    a.close();
    b.close();
    aClient.close();
    bClient.close();
    sessions.close();
    RingworkZooKeeper.assertNoLeaks(
        onLeader, ensemble.clientPorts(), RingworkZooKeeper.scaled(Duration.ofSeconds(15)));
    return run;
  }

  private static long since(long cutAt, long at) {
    return at == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(at - cutAt);
  }

  private static boolean ownsAll(Rebalancer r) {
    return r.ownedPartitions().size() == P;
  }

  private Rebalancer member(String id, CuratorFramework client, StrictHistory strict) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group(GROUP)
            .member(Member.of(id))
            .curator(client)
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(1))
            .listener(
                new OwnershipListener() {
                  @Override
                  public void onAssigned(List<Grant> grants) {
                    long now = System.nanoTime();
                    for (Grant g : grants) {
                      strict.grantRead(
                          new Incarnation(id, g.session()), g.partition(), g.token(), now);
                    }
                  }
                })
            .build();
    open.add(0, r);
    r.start();
    return r;
  }

  /**
   * A member's client on one server, as the rebalancer would build it but without Curator's
   * ensemble tracker: the tracker reads every server from /zookeeper/config and widens the client's
   * server list (a member given F's address alone then knows L and O too, and moves to one of them
   * within its session when F drops it: no expiry at all). The case here is a member that can reach
   * F alone.
   */
  private CuratorFramework memberClient(String connect) {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs((int) SESSION.toMillis())
            .connectionTimeoutMs((int) SESSION.toMillis() / 2)
            .retryPolicy(new ExponentialBackoffRetry(100, 10, 2000))
            .ensembleTracker(false)
            .build();
    c.start();
    open.add(0, c);
    return c;
  }

  /** A plain ZooKeeper handle on one server with a 20 s session, closed after the test. */
  private ZooKeeper plainClient(String connect) throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk =
        new ZooKeeper(
            connect,
            20_000,
            e -> {
              if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            });
    open.add(zk::close);
    assertThat(connected.await(10, TimeUnit.SECONDS)).as("plain client on %s", connect).isTrue();
    return zk;
  }

  /** A client on one server for the test's own reads and watches (no ensemble tracker). */
  private CuratorFramework observer(String connect) {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .retryPolicy(new RetryOneTime(200))
            .ensembleTracker(false)
            .build();
    c.start();
    open.add(c);
    return c;
  }

  private static Set<Integer> awaitOwnsSome(Rebalancer r) throws InterruptedException {
    long deadline = System.nanoTime() + STABLE.toNanos();
    while (System.nanoTime() - deadline < 0) {
      Set<Integer> owned = r.ownedPartitions();
      if (!owned.isEmpty() && owned.size() < P) {
        return owned;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    throw new AssertionError(r.memberId() + " never held part of the partitions");
  }

  private static Map<Integer, String> keysOf(Rebalancer r, Set<Integer> partitions) {
    Map<Integer, String> keys = new LinkedHashMap<>();
    for (int i = 0; keys.size() < partitions.size() && i < 100_000; i++) {
      String key = "key-" + i;
      r.grant(key).ifPresent(g -> keys.putIfAbsent(g.partition(), key));
    }
    assertThat(keys.keySet())
        .as("a key in each partition of %s", r.memberId())
        .isEqualTo(partitions);
    return keys;
  }

  private static KeyGuard fastGuard(Rebalancer r, String key) throws Exception {
    long deadline = System.nanoTime() + RingworkZooKeeper.scaled(Duration.ofSeconds(10)).toNanos();
    while (true) {
      KeyGuard g = r.guard(key, LockMode.EXCLUSIVE, Duration.ofSeconds(5));
      if (g.fastPath()) {
        return g;
      }
      g.close();
      assertThat(System.nanoTime() - deadline).as("fast path for " + key).isNegative();
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** Blocks ZooKeeper's event thread of a member: a watcher that waits on a latch when it fires. */
  private void blockZooKeeperEventThread(Rebalancer r, CuratorFramework writer) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    blocks.add(release);
    String path = "/block-" + System.nanoTime();
    writer.create().forPath(path);
    CountDownLatch entered = new CountDownLatch(1);
    r.curator()
        .getZookeeperClient()
        .getZooKeeper()
        .exists(
            path,
            event -> {
              entered.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    writer.setData().forPath(path, new byte[] {1});
    assertThat(entered.await(5, TimeUnit.SECONDS)).as("ZooKeeper event thread blocked").isTrue();
    writer.delete().forPath(path);
  }

  /** Blocks the rebalancer's own event thread. */
  private void blockEventThread(Rebalancer r) throws InterruptedException {
    CountDownLatch release = new CountDownLatch(1);
    blocks.add(release);
    CountDownLatch entered = new CountDownLatch(1);
    r.runOnEventThreadForTest(
        () -> {
          entered.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * Reads, every millisecond, what a worker of the isolated member would read (its keys' grants,
   * its owned partitions, its guard) and the other member's grants, feeding the strict history;
   * records when the isolated member last acted, when its handle left CONNECTED and when F stopped
   * serving.
   */
  private static final class Reader implements Runnable {
    private final Rebalancer a;
    private final Map<Integer, String> keys;
    private final KeyGuard guard;
    private final ZooKeeper aHandle;
    private final Rebalancer b;
    private final StrictHistory strict;
    private final int followerPort;
    private final Thread thread = new Thread(this, "follower-isolation-reader");
    private final Thread prober = new Thread(this::probeFollower, "follower-isolation-prober");
    private final Thread followerReads = new Thread(this::readOnFollower, "follower-isolation-f");
    volatile ZooKeeper onFollower;
    volatile long followerLastRead;
    private volatile boolean stopped;
    volatile long cutAt;
    volatile long lastActed;
    volatile long lastGuardValid;
    volatile long clientDisconnected;
    volatile long followerStoppedServing;
    volatile long followerLastServing;
    volatile Throwable failure;

    Reader(
        Rebalancer a,
        Map<Integer, String> keys,
        KeyGuard guard,
        ZooKeeper aHandle,
        Rebalancer b,
        StrictHistory strict,
        int followerPort) {
      this.a = a;
      this.keys = keys;
      this.guard = guard;
      this.aHandle = aHandle;
      this.b = b;
      this.strict = strict;
      this.followerPort = followerPort;
      thread.setDaemon(true);
      prober.setDaemon(true);
      followerReads.setDaemon(true);
    }

    void start() {
      thread.start();
      prober.start();
      followerReads.start();
    }

    void stop() throws InterruptedException {
      stopped = true;
      thread.join(10_000);
      prober.join(10_000);
      followerReads.interrupt(); // a read F no longer answers waits for the handle's close
    }

    @Override
    public void run() {
      long bound = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      try {
        while (!stopped && System.nanoTime() - bound < 0) {
          readOnce();
          TimeUnit.MILLISECONDS.sleep(1);
        }
      } catch (Throwable t) {
        failure = t;
      }
    }

    private void readOnce() {
      boolean acted = false;
      for (String key : keys.values()) {
        Optional<Grant> g = a.grant(key);
        long at = System.nanoTime(); // after the read: the later bound of when it was valid
        if (g.isPresent()) {
          acted = true;
          Grant grant = g.get();
          strict.grantRead(
              new Incarnation("a", grant.session()), grant.partition(), grant.token(), at);
        }
      }
      if (!a.ownedPartitions().isEmpty()) {
        acted = true;
      }
      if (guard.isValid()) {
        acted = true;
        lastGuardValid = System.nanoTime();
      }
      if (acted) {
        lastActed = System.nanoTime();
      }
      long cut = cutAt;
      if (cut != 0 && clientDisconnected == 0 && aHandle.getState() != ZooKeeper.States.CONNECTED) {
        clientDisconnected = System.nanoTime();
      }
      for (int p = 0; p < P; p++) {
        Optional<Grant> g = b.grant(p);
        long at = System.nanoTime();
        g.ifPresent(
            grant ->
                strict.grantRead(
                    new Incarnation("b", grant.session()), grant.partition(), grant.token(), at));
      }
    }

    /**
     * Reads through a plain client of F's every 20 ms (one with a 20 s session, which L does not
     * expire during the run): F answers it from its own copy while it serves.
     */
    private void readOnFollower() {
      long bound = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (!stopped && System.nanoTime() - bound < 0) {
        try {
          if (cutAt != 0) {
            onFollower.exists("/", false);
            followerLastRead = System.nanoTime();
          }
          TimeUnit.MILLISECONDS.sleep(20);
        } catch (InterruptedException e) {
          return;
        } catch (Exception notAnswered) {
          // F dropped the client: no read this time
        }
      }
    }

    /** Asks F every 20 ms whether it serves its clients ('srvr' answers with its mode then). */
    private void probeFollower() {
      long bound = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (!stopped && System.nanoTime() - bound < 0) {
        if (cutAt != 0) {
          long before = System.nanoTime();
          if (RingworkZooKeeper.fourLetterWord(followerPort, "srvr").contains("Mode: follower")) {
            followerLastServing = before;
          } else if (followerStoppedServing == 0) {
            followerStoppedServing = before;
          }
        }
        try {
          TimeUnit.MILLISECONDS.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /**
   * Three servers on 127.0.0.1, each reaching every peer's quorum port through a {@link FaultProxy}
   * of its own ({@code proxy(i, j)}: server i's view of server j); election and client ports are
   * direct. The proxies go into each server's {@code server.N} lines through its {@link
   * InstanceSpec}'s custom properties, which curator-test applies after its own.
   */
  static final class Ensemble implements AutoCloseable {
    final List<InstanceSpec> specs;
    final TestingCluster cluster;
    private final FaultProxy[][] proxies;
    int leader = -1;

    private Ensemble(List<InstanceSpec> specs, FaultProxy[][] proxies) {
      this.specs = specs;
      this.proxies = proxies;
      this.cluster = new TestingCluster(specs);
    }

    /**
     * Starts an ensemble and waits up to {@code timeout} for its leader, on fresh ports up to three
     * times when no leader forms. A port that another process takes before its server binds it is
     * not covered: curator-test's embedded server then ends the JVM.
     */
    static Ensemble start(int syncLimit, Duration timeout) throws Exception {
      AssertionError notFormed = null;
      for (int attempt = 0; attempt < 3; attempt++) {
        Ensemble e = create(syncLimit);
        try {
          e.cluster.start();
          e.leader = e.awaitLeader(timeout);
          return e;
        } catch (AssertionError noLeader) {
          notFormed = noLeader;
          e.close();
        } catch (Exception | Error t) {
          e.close();
          throw t;
        }
      }
      throw notFormed;
    }

    /**
     * A free port not picked before: curator-test closes each pick's socket, and Linux can hand the
     * same port out twice in a row ("Client and election port must be different").
     */
    private static int freshPort(Set<Integer> picked) {
      int port = InstanceSpec.getRandomPort();
      while (!picked.add(port)) {
        port = InstanceSpec.getRandomPort();
      }
      return port;
    }

    private static Ensemble create(int syncLimit) throws Exception {
      int n = 3;
      int[] client = new int[n];
      int[] quorum = new int[n];
      int[] election = new int[n];
      int[] ids = new int[n];
      Set<Integer> picked = new HashSet<>();
      for (int i = 0; i < n; i++) {
        client[i] = freshPort(picked);
        quorum[i] = freshPort(picked);
        election[i] = freshPort(picked);
        ids[i] = i + 1;
      }
      FaultProxy[][] proxies = new FaultProxy[n][n];
      List<FaultProxy> refused = new ArrayList<>();
      List<InstanceSpec> specs = new ArrayList<>();
      try {
        for (int i = 0; i < n; i++) {
          Map<String, Object> props = new HashMap<>();
          props.put("syncLimit", Integer.toString(syncLimit));
          props.put("initLimit", "40"); // 10 s to sync at start, for a loaded machine
          props.put("maxSessionTimeout", "20000");
          for (int j = 0; j < n; j++) {
            if (j == i) {
              continue;
            }
            // A proxy listens on a port the system picks: never on one picked for a server.
            FaultProxy proxy = new FaultProxy("127.0.0.1", quorum[j]);
            while (picked.contains(portOf(proxy))) {
              refused.add(proxy);
              proxy = new FaultProxy("127.0.0.1", quorum[j]);
            }
            proxies[i][j] = proxy;
            props.put(
                "server." + ids[j],
                "127.0.0.1:" + portOf(proxy) + ":" + election[j] + ";127.0.0.1:" + client[j]);
          }
          File dir = Files.createTempDirectory("follower-isolation").toFile();
          specs.add(
              new InstanceSpec(
                  dir,
                  client[i],
                  election[i],
                  quorum[i],
                  true,
                  ids[i],
                  TICK_MILLIS,
                  -1,
                  props,
                  "127.0.0.1"));
        }
      } catch (Exception | Error e) {
        closeProxies(proxies);
        throw e;
      } finally {
        refused.forEach(FaultProxy::close);
      }
      return new Ensemble(specs, proxies);
    }

    private static int portOf(FaultProxy proxy) {
      String connect = proxy.connectString();
      return Integer.parseInt(connect.substring(connect.lastIndexOf(':') + 1));
    }

    FaultProxy proxy(int from, int to) {
      return proxies[from][to];
    }

    int clientPort(int i) {
      return specs.get(i).getPort();
    }

    String connectString(int i) {
      return "127.0.0.1:" + clientPort(i);
    }

    List<Integer> clientPorts() {
      return specs.stream().map(InstanceSpec::getPort).toList();
    }

    /** Waits for one leader and two followers; returns the leader's index. */
    int awaitLeader(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() - deadline < 0) {
        int leader = -1;
        int followers = 0;
        for (int i = 0; i < specs.size(); i++) {
          String reply = RingworkZooKeeper.fourLetterWord(clientPort(i), "srvr");
          if (reply.contains("Mode: leader")) {
            leader = i;
          } else if (reply.contains("Mode: follower")) {
            followers++;
          }
        }
        if (leader >= 0 && followers == 2) {
          return leader;
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
      throw new AssertionError("no leader with two followers within " + timeout);
    }

    void awaitServing(int i, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!RingworkZooKeeper.fourLetterWord(clientPort(i), "srvr").contains("Mode: ")) {
        assertThat(System.nanoTime() - deadline).as("server %d serving again", i).isNegative();
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }

    @Override
    public void close() throws Exception {
      try {
        cluster.close();
      } finally {
        closeProxies(proxies);
      }
    }

    private static void closeProxies(FaultProxy[][] proxies) {
      for (FaultProxy[] row : proxies) {
        for (FaultProxy p : row) {
          if (p != null) {
            p.close();
          }
        }
      }
    }
  }
}
