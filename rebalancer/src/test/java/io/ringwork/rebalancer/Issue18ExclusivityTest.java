package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.membership.FaultProxy;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 18: exclusivity that does not rest on thread timing, each case against a real server. Every
 * test here failed on the code before the session lease (see the issue for the reproductions).
 */
final class Issue18ExclusivityTest {

  private static final int P = 16;
  private static final String GROUP = "exclusive";
  private static final Duration STABLE = RingworkZooKeeper.scaled(Duration.ofSeconds(20));

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final List<AutoCloseable> open = new ArrayList<>();
  private final List<CountDownLatch> blocks = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    blocks.forEach(CountDownLatch::countDown);
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private Rebalancer worker(
      String id, String connect, Duration session, OwnershipListener listener, int partitions) {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group(GROUP)
            .member(Member.of(id))
            .connectString(connect)
            .sessionTimeout(session)
            .partitions(partitions)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(5))
            .listener(listener)
            .build();
    open.add(0, r);
    r.start();
    return r;
  }

  private Rebalancer worker(String id, String connect, Duration session) {
    return worker(id, connect, session, new OwnershipListener() {}, P);
  }

  private KeyLocks locks(String id, int partitions) {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .sessionTimeoutMs(4000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5, 500))
            .build();
    c.start();
    KeyLocks.Builder b = KeyLocks.newBuilder().client(c).group(GROUP).memberId(id);
    if (partitions > 0) {
      b.partitions(partitions);
    }
    KeyLocks l = b.build();
    open.add(0, c);
    open.add(0, l);
    l.start();
    return l;
  }

  private static String keyOwnedBy(Rebalancer r) {
    for (int i = 0; ; i++) {
      String key = "node-" + i;
      if (r.grant(key).isPresent()) {
        return key;
      }
    }
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

  /** Blocks ZooKeeper's event thread of a client: a watcher that waits on a latch when it fires. */
  private void blockZooKeeperEventThread(CuratorFramework client) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    blocks.add(release);
    String path = "/block-" + System.nanoTime();
    zk.client().create().forPath(path);
    CountDownLatch entered = new CountDownLatch(1);
    client
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
    zk.client().setData().forPath(path, new byte[] {1});
    assertThat(entered.await(5, TimeUnit.SECONDS)).as("ZooKeeper event thread blocked").isTrue();
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
   * Case 1: a member whose link goes silent while its event threads are stuck stops granting and
   * guarding before the server expires its session (and so before anyone can take over).
   */
  @Test
  void silentLink_everyEventThreadBlocked_stopsActingBeforeTheServerExpiresTheSession()
      throws Exception {
    Margin m = silentLinkOnce();
    System.out.printf(
        "silent link: member stopped %d ms after the link went silent; the server expired it at"
            + " %d ms; margin %d ms (negotiated session %d ms)%n",
        m.stopMillis, m.expiryMillis, m.expiryMillis - m.stopMillis, m.sessionMillis);
    assertThat(m.stopMillis).isLessThan(m.expiryMillis);
  }

  /** One silent-link run; the figures of the margin report. */
  record Margin(long stopMillis, long expiryMillis, long sessionMillis) {}

  Margin silentLinkOnce() throws Exception {
    FaultProxy proxy = FaultProxy.to(zk.connectString());
    open.add(proxy);
    Rebalancer a = worker("a", proxy.connectString(), Duration.ofSeconds(4));
    assertThat(a.awaitStable(STABLE)).isTrue();
    String key = keyOwnedBy(a);
    KeyGuard guard = fastGuard(a, key);
    int partition = a.grant(key).orElseThrow().partition();
    long session = a.curator().getZookeeperClient().getZooKeeper().getSessionTimeout();
    assertThat(a.grant(key).orElseThrow().remainingNanos()).isPositive();
    assertThat(guard.remainingNanos()).isPositive();

    blockZooKeeperEventThread(a.curator());
    blockEventThread(a);

    String memberPath = GROUP_ROOT + "/members/a";
    long silentAt = System.nanoTime();
    proxy.blackhole(true);
    long stoppedAt = 0;
    long expiredAt = 0;
    long giveUp = silentAt + TimeUnit.MILLISECONDS.toNanos(4 * session);
    while ((stoppedAt == 0 || expiredAt == 0) && System.nanoTime() < giveUp) {
      long now = System.nanoTime();
      if (stoppedAt == 0
          && a.grant(key).isEmpty()
          && a.grant(partition).isEmpty()
          && !guard.isValid()
          && a.ownedPartitions().isEmpty()) {
        stoppedAt = now;
        assertThat(a.state()).isEqualTo(Rebalancer.State.SUSPENDED);
        assertThatThrownBy(guard::ensureValid).hasMessageContaining("no longer valid");
      }
      if (expiredAt == 0 && zk.client().checkExists().forPath(memberPath) == null) {
        expiredAt = now;
      }
      TimeUnit.MILLISECONDS.sleep(2);
    }
    assertThat(expiredAt).as("the server expired the silent session").isNotZero();
    assertThat(stoppedAt).as("the member stopped acting").isNotZero();
    // Once stopped, it stays stopped while its threads are still blocked.
    assertThat(a.grant(key)).isEmpty();
    guard.close();
    blocks.forEach(CountDownLatch::countDown);
    proxy.blackhole(false);
    return new Margin(
        TimeUnit.NANOSECONDS.toMillis(stoppedAt - silentAt),
        TimeUnit.NANOSECONDS.toMillis(expiredAt - silentAt),
        session);
  }

  private static final String GROUP_ROOT = "/ringwork/" + GROUP;

  /**
   * Case 1, lock handles: a held lock reports itself SUSPENDED (and ensureValid throws) once the
   * session lease ends, with the lock service's event thread and ZooKeeper's blocked.
   */
  @Test
  void silentLink_heldLock_isNotHeldBeforeTheServerExpiresIt() throws Exception {
    FaultProxy proxy = FaultProxy.to(zk.connectString());
    open.add(proxy);
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(proxy.connectString())
            .sessionTimeoutMs(4000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5, 500))
            .build();
    c.start();
    open.add(c);
    KeyLocks l = KeyLocks.newBuilder().client(c).group(GROUP).memberId("holder").build();
    open.add(0, l);
    l.start();
    LockHandle h = l.acquire(io.ringwork.lock.LockRequest.of("volume-1", LockMode.EXCLUSIVE));
    assertThat(h.state()).isEqualTo(LockState.HELD);
    blockZooKeeperEventThread(c);
    long silentAt = System.nanoTime();
    proxy.blackhole(true);
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> h.state() != LockState.HELD);
    long stopped = System.nanoTime();
    assertThatThrownBy(h::ensureValid).hasMessageContaining("not HELD");
    // Another process can take it only after the server expired the holder's session.
    KeyLocks other = locks("other", 0);
    try (LockHandle next =
        other.acquire(
            io.ringwork.lock.LockRequest.of("volume-1", LockMode.EXCLUSIVE)
                .withTimeout(Duration.ofSeconds(30)))) {
      long granted = System.nanoTime();
      assertThat(stopped).isLessThan(granted);
      assertThat(next.token()).isGreaterThan(h.token());
      assertThat(h.state()).isNotEqualTo(LockState.HELD);
    }
    System.out.printf(
        "held lock: invalid %d ms after the link went silent%n",
        TimeUnit.NANOSECONDS.toMillis(stopped - silentAt));
  }

  /**
   * Case 2: close() from a listener callback waits for the fast guards in flight (up to the revoke
   * deadline) before it lets a successor in, as a close from an application thread does.
   */
  @Test
  void closeFromCallback_guardInFlight_successorActivatesOnlyAfterTheGuardCloses()
      throws Exception {
    AtomicReference<Rebalancer> self = new AtomicReference<>();
    Rebalancer a =
        worker(
            "a",
            zk.connectString(),
            Duration.ofSeconds(10),
            new OwnershipListener() {
              @Override
              public void onRevoked(Set<Integer> partitions) {
                Rebalancer r = self.get();
                if (r != null) {
                  r.close(); // from the listener thread
                }
              }
            },
            P);
    self.set(a);
    assertThat(a.awaitStable(STABLE)).isTrue();
    String key = keyOwnedBy(a);
    KeyGuard guard = fastGuard(a, key);
    AtomicLong guardClosedAt = new AtomicLong();
    Thread holder =
        new Thread(
            () -> {
              try {
                TimeUnit.MILLISECONDS.sleep(2500);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              guardClosedAt.set(System.nanoTime());
              guard.close();
            });
    Rebalancer b = worker("b", zk.connectString(), Duration.ofSeconds(10));
    holder.start();
    await().atMost(STABLE).pollInterval(Duration.ofMillis(2)).until(() -> b.grant(key).isPresent());
    long bActive = System.nanoTime();
    holder.join();
    assertThat(guardClosedAt.get()).as("guard closed").isNotZero();
    assertThat(bActive).as("successor after the guard closed").isGreaterThan(guardClosedAt.get());
  }

  /**
   * As above, with the member a ring of a {@link RingworkClient} and its {@code onRevoked} closing
   * the whole client: the client's close, handed to a background thread, waits for the ring's
   * shutdown (its guards in flight closed, its acknowledgement withdrawn) before it ends the
   * session, so the successor activates only after the guard closes. Before the fix the session
   * closed at once, the ring's acknowledgement and member node went with it, and the successor was
   * active while the guard was still open.
   */
  @Test
  void ringworkClientClosedFromCallback_guardInFlight_successorActivatesOnlyAfterTheGuardCloses()
      throws Exception {
    RingworkClient client =
        RingworkClient.newBuilder()
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(10))
            .build();
    open.add(0, client);
    client.start();
    AtomicReference<RingworkClient> self = new AtomicReference<>(client);
    Rebalancer a =
        client
            .newRebalancer()
            .group(GROUP)
            .member(Member.of("a"))
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(5))
            .listener(
                new OwnershipListener() {
                  @Override
                  public void onRevoked(Set<Integer> partitions) {
                    self.get().close(); // from the ring's listener thread
                  }
                })
            .build();
    a.start();
    assertThat(a.awaitStable(STABLE)).isTrue();
    String key = keyOwnedBy(a);
    KeyGuard guard = fastGuard(a, key);
    AtomicLong guardClosedAt = new AtomicLong();
    // The guard stays open 2.5 s after b joins: far longer than a handoff, even at load 10+.
    Thread holder =
        new Thread(
            () -> {
              try {
                TimeUnit.MILLISECONDS.sleep(2500);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              guardClosedAt.set(System.nanoTime());
              guard.close();
            });
    Rebalancer b = worker("b", zk.connectString(), Duration.ofSeconds(10));
    holder.start();
    await().atMost(STABLE).pollInterval(Duration.ofMillis(2)).until(() -> b.grant(key).isPresent());
    long bActive = System.nanoTime();
    holder.join();
    assertThat(guardClosedAt.get()).as("guard closed").isNotZero();
    assertThat(bActive).as("successor after the guard closed").isGreaterThan(guardClosedAt.get());
    // The background close finishes: the ring is closed and the client holds no ring.
    await().atMost(STABLE).until(() -> a.state() == Rebalancer.State.CLOSED);
    await().atMost(STABLE).until(() -> !client.curator().getZookeeperClient().isConnected());
  }

  /**
   * Cases 3 and 4: a fast guard that a drain gave up on (a partition move past the revoke deadline)
   * still excludes foreign locks on its key when its partition did not move, and is invalidated
   * (and counted) when it did.
   */
  @Test
  void drainGivesUp_guardThatStays_keepsExcludingForeignLocks_guardThatMoved_isInvalidated()
      throws Exception {
    Rebalancer a =
        Rebalancer.newBuilder()
            .group(GROUP)
            .member(Member.of("a"))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(10))
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofMillis(500))
            .build();
    open.add(0, a);
    a.start();
    assertThat(a.awaitStable(STABLE)).isTrue();
    String staysKey = null;
    String movesKey = null;
    KeyGuard stays;
    KeyGuard moves;
    // Open guards on many keys; after b joins, some stayed with a and some moved.
    List<KeyGuard> guards = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      String key = "vm-" + i;
      guards.add(fastGuard(a, key));
      keys.add(key);
    }
    Rebalancer b = worker("b", zk.connectString(), Duration.ofSeconds(10));
    assertThat(b.awaitStable(STABLE)).isTrue();
    assertThat(a.awaitStable(STABLE)).isTrue();
    stays = null;
    moves = null;
    for (int i = 0; i < keys.size(); i++) {
      if (stays == null && a.grant(keys.get(i)).isPresent()) {
        stays = guards.get(i);
        staysKey = keys.get(i);
      } else if (moves == null && b.grant(keys.get(i)).isPresent()) {
        moves = guards.get(i);
        movesKey = keys.get(i);
      }
    }
    assertThat(stays).isNotNull();
    assertThat(moves).isNotNull();
    assertThat(a.guardsForTest().abandonedDrains()).isPositive();

    // Case 4: the key that stayed is still guarded by a's open fast guard: no foreign lock.
    KeyLocks foreign = locks("api", 0);
    String sk = staysKey;
    assertThat(stays.isValid()).isTrue();
    assertThatThrownBy(
            () ->
                foreign.acquire(
                    io.ringwork.lock.LockRequest.of(sk, LockMode.EXCLUSIVE)
                        .withTimeout(Duration.ofSeconds(2))))
        .isInstanceOf(LockTimeoutException.class);

    // Case 3: the guard on the key that moved is invalid; b's token is above it.
    assertThat(moves.isValid()).isFalse();
    assertThatThrownBy(moves::ensureValid).hasMessageContaining("no longer valid");
    assertThat(b.grant(movesKey).orElseThrow().token()).isGreaterThan(moves.token());

    for (KeyGuard g : guards) {
      g.close();
    }
    try (LockHandle h =
        foreign.acquire(
            io.ringwork.lock.LockRequest.of(sk, LockMode.EXCLUSIVE)
                .withTimeout(Duration.ofSeconds(10)))) {
      assertThat(h.token()).isGreaterThan(stays.token());
    }
  }

  /**
   * Case 5: a lock service that starts before any group config fixes the group's partition count; a
   * rebalancer with another count fails at start naming both, one with the same count shares every
   * queue (a lock taken before it started keeps its owner's fast path off the key).
   */
  @Test
  void lockServiceFirst_fixesThePartitionCount_forEveryLaterStarter() throws Exception {
    KeyLocks first = locks("tool", 0);
    assertThat(first.partitions()).isEqualTo(KeyLocks.DEFAULT_PARTITIONS);
    LockHandle early = first.acquire(io.ringwork.lock.LockRequest.of("vm-7", LockMode.EXCLUSIVE));

    assertThatThrownBy(() -> worker("x", zk.connectString(), Duration.ofSeconds(10)))
        .hasMessageContaining("partitions is " + KeyLocks.DEFAULT_PARTITIONS + " in the group")
        .hasMessageContaining("but " + P + " here");
    assertThatThrownBy(() -> locks("tool-2", 512))
        .hasMessageContaining("partitions is " + KeyLocks.DEFAULT_PARTITIONS)
        .hasMessageContaining("512");
    // The config so far is the lock service's: no ring is in force, and a reader says so.
    assertThatThrownBy(
            () ->
                GroupStatus.liveRing(
                    zk.client(), "/ringwork/" + GROUP, io.ringwork.ring.KeyRouter.wholeKey()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no rebalancer has started in the group at /ringwork/" + GROUP);

    Rebalancer a =
        worker(
            "a",
            zk.connectString(),
            Duration.ofSeconds(10),
            new OwnershipListener() {},
            KeyLocks.DEFAULT_PARTITIONS);
    assertThat(a.awaitStable(STABLE)).isTrue();
    assertThat(a.locks().partitions()).isEqualTo(first.partitions());
    assertThat(a.grant("vm-7")).isPresent();
    // The early lock is in the owner's queue: the owner's guard goes through the lock and waits.
    assertThatThrownBy(() -> a.guard("vm-7", LockMode.EXCLUSIVE, Duration.ofMillis(800)))
        .isInstanceOf(LockTimeoutException.class);
    early.release();
    try (KeyGuard g = a.guard("vm-7", LockMode.EXCLUSIVE, Duration.ofSeconds(10))) {
      assertThat(g.token()).isGreaterThan(early.token());
    }
  }

  /** revokeDeadline longer than half the negotiated session is clamped, with a warning. */
  @Test
  void revokeDeadline_beyondHalfTheNegotiatedSession_isClamped() {
    Rebalancer a = worker("a", zk.connectString(), Duration.ofSeconds(4));
    long negotiated = a.leaseForTest().negotiatedTimeout().toMillis();
    if (negotiated == 0) {
      await().atMost(Duration.ofSeconds(5)).until(() -> a.leaseForTest().session() != 0);
      negotiated = a.leaseForTest().negotiatedTimeout().toMillis();
    }
    assertThat(a.revokeDeadlineForTest().toMillis()).isLessThanOrEqualTo(negotiated / 2);
  }

  /**
   * Shutdown with the event thread stuck, on a caller's client (whose session outlives the
   * rebalancer): close() returns within its budget (twice the revoke deadline plus 5 s) and
   * withdraws the acknowledgement itself, so the member's ack does not block every later barrier of
   * the group for the life of the caller's session, and the survivor takes everything over.
   */
  @Test
  void close_eventThreadStuck_onACallersClient_returnsWithinItsBudget_andLeavesNoAckBehind()
      throws Exception {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .sessionTimeoutMs(4000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5, 500))
            .build();
    c.start();
    open.add(c);
    Rebalancer a =
        Rebalancer.newBuilder()
            .group(GROUP)
            .member(Member.of("a"))
            .curator(c)
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofMillis(500))
            .build();
    open.add(0, a);
    a.start();
    Rebalancer b = worker("b", zk.connectString(), Duration.ofSeconds(4));
    assertThat(a.awaitStable(STABLE)).isTrue();
    assertThat(b.awaitStable(STABLE)).isTrue();
    assertThat(a.ownedPartitions()).isNotEmpty();
    String ack = "/ringwork/" + GROUP + "/acks/a";
    assertThat(zk.client().checkExists().forPath(ack)).isNotNull();

    blockEventThread(a);
    long start = System.nanoTime();
    a.close();
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    // The budget: 2 x 500 ms + 5 s; a little scheduling slack on a loaded machine.
    assertThat(tookMillis).isBetween(5_000L, 12_000L);
    assertThat(a.state()).isEqualTo(Rebalancer.State.CLOSED);
    assertThat(a.ownedPartitions()).isEmpty();
    assertThat(c.getZookeeperClient().isConnected()).as("the caller's session lives on").isTrue();
    assertThat(zk.client().checkExists().forPath(ack)).as("a's acknowledgement").isNull();
    assertThat(zk.client().checkExists().forPath("/ringwork/" + GROUP + "/members/a")).isNull();
    await().atMost(STABLE).until(() -> b.ownedPartitions().size() == P);
  }

  /**
   * After its session changes, the owner still yields to foreign locks: the lock service's watch on
   * its partitions' request queues is set again in the new session (a watch believed in the dead
   * session would leave every foreign lock on its keys waiting for its timeout).
   */
  @Test
  void newSession_theOwnerStillYieldsToForeignLocks_onItsKeys() throws Exception {
    Rebalancer a = worker("a", zk.connectString(), Duration.ofSeconds(4));
    assertThat(a.awaitStable(STABLE)).isTrue();
    String key = keyOwnedBy(a);
    fastGuard(a, key).close();
    long first = a.grant(key).orElseThrow().session();
    RingworkZooKeeper.expire(a.curator());
    await().atMost(STABLE).until(() -> a.grant(key).map(g -> g.session() != first).orElse(false));
    fastGuard(a, key).close();
    KeyLocks api = locks("api", 0);
    long begin = System.nanoTime();
    try (LockHandle h = api.acquire(key, LockMode.EXCLUSIVE, Duration.ofSeconds(10))) {
      assertThat(h.state()).isEqualTo(LockState.HELD);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin))
          .as("the owner yielded (a watch in the dead session would leave it to the timeout)")
          .isLessThan(5_000);
      try (KeyGuard g = a.guard(key, LockMode.EXCLUSIVE, Duration.ofMillis(200))) {
        throw new AssertionError("the owner guarded " + key + " over a foreign lock: " + g);
      } catch (LockTimeoutException expected) {
        // the foreign holder excludes the owner's guard
      }
    }
    fastGuard(a, key).close(); // and the fast path comes back after the release
  }
}
