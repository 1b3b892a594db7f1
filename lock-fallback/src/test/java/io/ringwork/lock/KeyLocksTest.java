package io.ringwork.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ringwork.ring.KeyRouter;
import io.ringwork.test.FencedStore;
import io.ringwork.test.RingworkZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class KeyLocksTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private Fixture fx;
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeEach
  void setUp() {
    fx = new Fixture(zk);
  }

  @AfterEach
  void tearDown() throws Exception {
    pool.shutdownNow();
    fx.close();
  }

  private static Duration w(long ms) {
    return RingworkZooKeeper.scaled(Duration.ofMillis(ms));
  }

  /** Lock request and upgrade nodes anywhere under the group's locks. */
  private List<String> lockNodes() throws Exception {
    List<String> out = new ArrayList<>();
    CuratorFramework c = zk.client();
    String root = "/ringwork/g/locks";
    if (c.checkExists().forPath(root) == null) {
      return out;
    }
    for (String p : c.getChildren().forPath(root)) {
      for (String q : c.getChildren().forPath(root + "/" + p)) {
        for (String n : c.getChildren().forPath(root + "/" + p + "/" + q)) {
          out.add(root + "/" + p + "/" + q + "/" + n);
        }
      }
    }
    return out;
  }

  @Test
  void exclusive_secondWaitsForFirst_tokenIncreases() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    LockHandle ha = a.acquire("node-1", LockMode.EXCLUSIVE);
    assertThat(ha.state()).isEqualTo(LockState.HELD);
    Future<LockHandle> fb = pool.submit(() -> b.acquire("node-1", LockMode.EXCLUSIVE, w(10_000)));
    await().during(Duration.ofMillis(300)).atMost(w(2000)).until(() -> !fb.isDone());
    assertThat(a.inspect("node-1").waiters()).extracting(LockInfo::member).containsExactly("b");
    assertThat(a.inspect("node-1").waiters().get(0).waitingFor()).isEqualTo("a (exclusive)");
    assertThat(a.inspect("node-1").holders().get(0).waitingFor()).isNull();
    assertThat(ha.release()).isEqualTo(ReleaseOutcome.RELEASED);
    LockHandle hb = fb.get(10, TimeUnit.SECONDS);
    assertThat(hb.token()).isGreaterThan(ha.token());
    assertThat(hb.release()).isEqualTo(ReleaseOutcome.RELEASED);
    assertThat(lockNodes()).isEmpty();
  }

  @Test
  void shared_coexist_andAQueuedExclusiveKeepsLaterSharedOut() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    KeyLocks c = fx.locks("c");
    KeyLocks d = fx.locks("d");
    LockHandle sa = a.acquire("vol", LockMode.SHARED);
    LockHandle sb = b.acquire("vol", LockMode.SHARED, w(2000));
    Future<LockHandle> xc = pool.submit(() -> c.acquire("vol", LockMode.EXCLUSIVE, w(10_000)));
    await().atMost(w(5000)).until(() -> a.inspect("vol").waiters().size() == 1);
    Future<LockHandle> sd = pool.submit(() -> d.acquire("vol", LockMode.SHARED, w(10_000)));
    await().atMost(w(5000)).until(() -> a.inspect("vol").waiters().size() == 2);
    await().during(Duration.ofMillis(200)).atMost(w(2000)).until(() -> !sd.isDone());
    sa.release();
    sb.release();
    LockHandle x = xc.get(10, TimeUnit.SECONDS);
    assertThat(sd.isDone()).as("the later shared request waits behind the exclusive").isFalse();
    x.release();
    sd.get(10, TimeUnit.SECONDS).release();
  }

  @Test
  void waiters_grantedInRequestOrder_noInversion() throws Exception {
    KeyLocks holder = fx.locks("holder");
    LockHandle h = holder.acquire("fifo", LockMode.EXCLUSIVE);
    List<Future<LockHandle>> queued = new ArrayList<>();
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 6; i++) {
      KeyLocks w = fx.locks("w" + i);
      // Alternate modes: a shared request behind an exclusive one must not overtake it.
      LockMode mode = i % 2 == 0 ? LockMode.EXCLUSIVE : LockMode.SHARED;
      queued.add(
          pool.submit(
              () -> {
                LockHandle got = w.acquire("fifo", mode, w(20_000));
                order.add(w.memberId());
                Thread.sleep(20);
                got.release();
                return got;
              }));
      int expected = i + 1;
      await().atMost(w(5000)).until(() -> holder.inspect("fifo").waiters().size() == expected);
    }
    h.release();
    List<Long> tokens = new ArrayList<>();
    for (Future<LockHandle> f : queued) {
      tokens.add(f.get(20, TimeUnit.SECONDS).token());
    }
    assertThat(tokens).isSorted();
    assertThat(order).containsExactly("w0", "w1", "w2", "w3", "w4", "w5");
  }

  @Test
  void tryAcquire_takenKey_emptyAndNothingLeft() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    LockHandle h = a.acquire("k", LockMode.EXCLUSIVE);
    assertThat(b.tryAcquire("k", LockMode.SHARED)).isEmpty();
    assertThat(lockNodes()).hasSize(1);
    h.release();
    Optional<LockHandle> got = b.tryAcquire("k", LockMode.SHARED);
    assertThat(got).isPresent();
    got.get().release();
  }

  @Test
  void timeout_namesTheHolder_andLeavesNoNode() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    LockHandle h =
        a.acquire(LockRequest.of("k", LockMode.EXCLUSIVE).withPurpose("deploying node 7"));
    assertThatThrownBy(() -> b.acquire("k", LockMode.EXCLUSIVE, Duration.ofMillis(200)))
        .isInstanceOf(LockTimeoutException.class)
        .hasMessageContaining("holder a")
        .hasMessageContaining("deploying node 7");
    assertThat(lockNodes()).hasSize(1);
    h.release();
  }

  @Test
  void release_neverThrows_isIdempotent_andReportsWhatItDid() throws Exception {
    KeyLocks a = fx.locks("a");
    LockHandle h = a.acquire("k", LockMode.EXCLUSIVE);
    CompletableFuture<ReleaseOutcome> other = CompletableFuture.supplyAsync(h::release, pool);
    ReleaseOutcome mine = h.release();
    assertThat(List.of(mine, other.get(5, TimeUnit.SECONDS)))
        .containsExactlyInAnyOrder(ReleaseOutcome.RELEASED, ReleaseOutcome.ALREADY_RELEASED);
    assertThat(h.state()).isEqualTo(LockState.RELEASED);
    assertThatThrownBy(h::ensureValid).isInstanceOf(LockLostException.class);
    assertThat(lockNodes()).isEmpty();
  }

  @Test
  void secondAcquireOfAHeldKey_refusedAtOnce() throws Exception {
    KeyLocks a = fx.locks("a", fx.client(4000), KeyRouter.upTo('/'));
    LockHandle h = a.acquire(LockRequest.of("stack-1", LockMode.SHARED).withSubtree());
    assertThatThrownBy(() -> a.acquire("stack-1", LockMode.SHARED))
        .isInstanceOf(AlreadyHeldException.class)
        .hasMessageContaining("not re-entrant");
    assertThatThrownBy(() -> a.acquire("stack-1/nested", LockMode.EXCLUSIVE))
        .isInstanceOf(AlreadyHeldException.class);
    h.release();
    a.acquire("stack-1", LockMode.EXCLUSIVE).release();
  }

  @Test
  void sessionExpiry_whileHolding_lostThenFencedByTheNextHolder() throws Exception {
    CuratorFramework ca = fx.client(2000);
    KeyLocks a = fx.locks("a", ca, KeyRouter.wholeKey());
    KeyLocks b = fx.locks("b");
    FencedStore ledger = new FencedStore();
    LockHandle ha = a.acquire("res", LockMode.EXCLUSIVE);
    CountDownLatch lost = new CountDownLatch(1);
    ha.onLost(lost::countDown);
    assertThat(ledger.write("res", ha.token())).isTrue();
    Future<LockHandle> fb = pool.submit(() -> b.acquire("res", LockMode.EXCLUSIVE, w(20_000)));
    ca.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
    assertThat(lost.await(w(10_000).toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    assertThat(ha.state()).isEqualTo(LockState.LOST);
    assertThatThrownBy(ha::ensureValid).isInstanceOf(LockLostException.class);
    LockHandle hb = fb.get(20, TimeUnit.SECONDS);
    assertThat(hb.token()).isGreaterThan(ha.token());
    assertThat(ledger.write("res", hb.token())).isTrue();
    assertThat(ledger.write("res", ha.token())).isFalse();
    // Releasing the lost handle deletes nothing: b's node stays.
    assertThat(ha.release()).isEqualTo(ReleaseOutcome.ALREADY_LOST);
    assertThat(a.inspect("res").holders()).extracting(LockInfo::member).containsExactly("b");
    // A fresh acquire by a goes through the server, behind b, with a larger token.
    Future<LockHandle> again = pool.submit(() -> a.acquire("res", LockMode.EXCLUSIVE, w(20_000)));
    await().during(Duration.ofMillis(200)).atMost(w(2000)).until(() -> !again.isDone());
    hb.release();
    LockHandle ha2 = again.get(20, TimeUnit.SECONDS);
    assertThat(ha2.token()).isGreaterThan(hb.token());
    ha2.release();
  }

  @Test
  void twoUpgradableRequests_oneHoldsTheOtherWaits() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    LockHandle ua = a.acquire("k", LockMode.UPGRADABLE);
    assertThat(b.tryAcquire("k", LockMode.UPGRADABLE)).isEmpty();
    LockHandle sb = b.acquire("k", LockMode.SHARED, w(2000));
    // The S holder cannot upgrade past the U holder: it fails fast and still holds S.
    long t0 = System.nanoTime();
    assertThatThrownBy(sb::tryUpgrade)
        .isInstanceOf(UpgradeConflictException.class)
        .hasMessageContaining("holder a");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(w(2000));
    assertThat(sb.state()).isEqualTo(LockState.HELD);
    assertThat(sb.mode()).isEqualTo(LockMode.SHARED);
    // The U holder's upgrade waits for the S holder, then is exclusive with the same token.
    long token = ua.token();
    Future<?> up =
        pool.submit(
            () -> {
              ua.upgrade(w(10_000));
              return null;
            });
    await().during(Duration.ofMillis(200)).atMost(w(2000)).until(() -> !up.isDone());
    sb.release();
    up.get(10, TimeUnit.SECONDS);
    assertThat(ua.mode()).isEqualTo(LockMode.EXCLUSIVE);
    assertThat(ua.token()).isEqualTo(token);
    assertThat(b.tryAcquire("k", LockMode.SHARED)).isEmpty();
    ua.release();
    assertThat(lockNodes()).isEmpty();
  }

  /**
   * A shared request that queues behind a waiting upgrade does not hold the upgrade up: it waits
   * for the upgrade (which stands at its base's place as EXCLUSIVE), so the upgrade must not wait
   * for it. Found by {@code LockQueuePropertiesTest.upgrades_*}: both waited until one timed out.
   */
  @Test
  void upgradeWaitingForAHolder_sharedRequestQueuesBehindIt_upgradeIsGrantedWhenTheHolderGoes()
      throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    KeyLocks c = fx.locks("c");
    LockHandle ua = a.acquire("k", LockMode.UPGRADABLE);
    LockHandle sb = b.acquire("k", LockMode.SHARED, w(2000));
    Future<?> up =
        pool.submit(
            () -> {
              ua.upgrade(w(30_000));
              return null;
            });
    await().during(Duration.ofMillis(200)).atMost(w(2000)).until(() -> !up.isDone());
    Future<LockHandle> sc = pool.submit(() -> c.acquire("k", LockMode.SHARED, w(30_000)));
    await().atMost(w(5000)).until(() -> a.inspect("k").waiters().size() == 1);
    sb.release();
    // Margins for a loaded machine: the grant takes a few round trips, the timeouts are 30 s.
    up.get(w(10_000).toMillis(), TimeUnit.MILLISECONDS);
    assertThat(ua.mode()).isEqualTo(LockMode.EXCLUSIVE);
    assertThat(sc.isDone()).isFalse();
    ua.release();
    LockHandle hc = sc.get(w(10_000).toMillis(), TimeUnit.MILLISECONDS);
    assertThat(hc.token()).isGreaterThan(ua.token());
    hc.release();
    assertThat(lockNodes()).isEmpty();
  }

  /**
   * Two upgradable holders of sibling keys and a shared holder of the subtree above both: neither
   * upgrade may be granted while the subtree is held. The second one used to be (it took the
   * subtree holder for a waiter because the first upgrade node blocks it now), so the key was held
   * exclusive and shared at once. LockQueuePropertiesTest has the same history as an example.
   */
  @Test
  void twoUpgradesUnderASharedSubtreeHolder_bothWaitForIt() throws Exception {
    KeyLocks a = fx.locks("a", fx.client(4000), KeyRouter.upTo('/'));
    KeyLocks b = fx.locks("b", fx.client(4000), KeyRouter.upTo('/'));
    KeyLocks c = fx.locks("c", fx.client(4000), KeyRouter.upTo('/'));
    LockHandle ua = a.acquire("v/b", LockMode.UPGRADABLE, w(2000));
    LockHandle ub = b.acquire("v/a", LockMode.UPGRADABLE, w(2000));
    LockHandle sc =
        c.acquire(LockRequest.of("v", LockMode.SHARED).withSubtree().withTimeout(w(2000)));
    Future<?> upA =
        pool.submit(
            () -> {
              ua.upgrade(w(30_000));
              return null;
            });
    await().during(Duration.ofMillis(200)).atMost(w(2000)).until(() -> !upA.isDone());
    Future<?> upB =
        pool.submit(
            () -> {
              ub.upgrade(w(30_000));
              return null;
            });
    // A wrong grant takes a few round trips: 1 s of waiting covers them on a loaded machine.
    await().during(Duration.ofMillis(1000)).atMost(w(3000)).until(() -> !upB.isDone());
    assertThat(ub.mode()).isEqualTo(LockMode.UPGRADABLE);
    assertThat(ua.mode()).isEqualTo(LockMode.UPGRADABLE);
    sc.release();
    upA.get(w(10_000).toMillis(), TimeUnit.MILLISECONDS);
    upB.get(w(10_000).toMillis(), TimeUnit.MILLISECONDS);
    assertThat(ua.mode()).isEqualTo(LockMode.EXCLUSIVE);
    assertThat(ub.mode()).isEqualTo(LockMode.EXCLUSIVE);
    ua.release();
    ub.release();
    assertThat(lockNodes()).isEmpty();
  }

  @Test
  void sharedHolders_raceToUpgrade_neverBothWin_neverHang() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    for (int round = 0; round < 1000; round++) {
      LockHandle ha = a.acquire("k", LockMode.SHARED);
      LockHandle hb = b.acquire("k", LockMode.SHARED);
      CountDownLatch go = new CountDownLatch(1);
      Future<Boolean> ua = pool.submit(() -> upgradeWins(go, ha));
      Future<Boolean> ub = pool.submit(() -> upgradeWins(go, hb));
      go.countDown();
      boolean wa = ua.get(5, TimeUnit.SECONDS);
      boolean wb = ub.get(5, TimeUnit.SECONDS);
      assertThat(wa && wb).as("round %d: both upgraded", round).isFalse();
      ha.release();
      hb.release();
    }
    assertThat(lockNodes()).isEmpty();
  }

  private static boolean upgradeWins(CountDownLatch go, LockHandle h) throws Exception {
    go.await();
    try {
      h.tryUpgrade();
      return true;
    } catch (UpgradeConflictException e) {
      return false;
    }
  }

  @Test
  void downgrade_keepsTokenAndPlace_aQueuedExclusiveStaysBehind() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    KeyLocks c = fx.locks("c");
    LockHandle x = a.acquire("k", LockMode.EXCLUSIVE);
    long token = x.token();
    Future<LockHandle> qx = pool.submit(() -> b.acquire("k", LockMode.EXCLUSIVE, w(10_000)));
    await().atMost(w(5000)).until(() -> a.inspect("k").waiters().size() == 1);
    x.downgrade(LockMode.SHARED);
    assertThat(x.token()).isEqualTo(token);
    assertThat(x.mode()).isEqualTo(LockMode.SHARED);
    assertThat(a.inspect("k").holders())
        .extracting(LockInfo::mode)
        .containsExactly(LockMode.SHARED);
    await().during(Duration.ofMillis(300)).atMost(w(2000)).until(() -> !qx.isDone());
    // A new shared request queues behind the exclusive (FIFO), not beside the downgraded holder.
    assertThat(c.tryAcquire("k", LockMode.SHARED)).isEmpty();
    x.release();
    qx.get(10, TimeUnit.SECONDS).release();
  }

  @Test
  void subtreeLock_excludesKeysBelow_plainKeysOfOneQueueStayIndependent() throws Exception {
    KeyLocks a = fx.locks("a", fx.client(4000), KeyRouter.upTo('/'));
    KeyLocks b = fx.locks("b", fx.client(4000), KeyRouter.upTo('/'));
    LockHandle nested = b.acquire("stack-7/nested-2", LockMode.EXCLUSIVE);
    LockHandle sibling = a.acquire("stack-7/nested-3", LockMode.EXCLUSIVE, w(2000));
    LockHandle top = a.acquire("stack-7", LockMode.EXCLUSIVE, w(2000)); // plain: independent
    top.release();
    sibling.release();
    Future<LockHandle> whole =
        pool.submit(
            () ->
                a.acquire(
                    LockRequest.of("stack-7", LockMode.EXCLUSIVE)
                        .withSubtree()
                        .withTimeout(w(10_000))));
    await().during(Duration.ofMillis(300)).atMost(w(2000)).until(() -> !whole.isDone());
    // FIFO across the subtree: a later request below waits behind the queued subtree lock.
    assertThat(b.tryAcquire("stack-7/nested-9", LockMode.SHARED)).isEmpty();
    nested.release();
    LockHandle w = whole.get(10, TimeUnit.SECONDS);
    assertThat(b.tryAcquire("stack-7/nested-2", LockMode.SHARED)).isEmpty();
    assertThat(b.tryAcquire("stack-8", LockMode.EXCLUSIVE)).map(LockHandle::release).isPresent();
    w.release();
  }

  @Test
  void subtreeLock_withARouterThatSplitsTheSubtree_refused() {
    KeyLocks a = fx.locks("a");
    assertThatThrownBy(() -> a.acquire(LockRequest.of("stack-7", LockMode.EXCLUSIVE).withSubtree()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("subtree lock needs a router");
  }

  @Test
  void manyTimeoutsAndInterrupts_leaveNoOrphanNode() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    LockHandle h = a.acquire("hot", LockMode.EXCLUSIVE);
    for (int i = 0; i < 1000; i++) {
      assertThat(b.tryAcquire("hot", LockMode.EXCLUSIVE)).isEmpty();
    }
    for (int i = 0; i < 20; i++) {
      Future<LockHandle> waiting =
          pool.submit(() -> b.acquire("hot", LockMode.EXCLUSIVE, w(30_000)));
      await().atMost(w(5000)).until(() -> a.inspect("hot").waiters().size() == 1);
      waiting.cancel(true);
      await().atMost(w(5000)).until(() -> a.inspect("hot").waiters().isEmpty());
    }
    assertThat(lockNodes()).hasSize(1);
    h.release();
    await().atMost(w(5000)).until(() -> lockNodes().isEmpty());
  }

  @Test
  void corruptLockNodeData_reportedByInspect_neverFatal() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    LockHandle h = a.acquire("k", LockMode.EXCLUSIVE);
    zk.client().setData().forPath(h.path(), "{not json".getBytes(StandardCharsets.UTF_8));
    KeyLockState s = b.inspect("k");
    assertThat(s.holders()).hasSize(1);
    assertThat(s.holders().get(0).problem()).contains(h.path()).contains("JSON");
    assertThat(b.inspectAll()).hasSize(1);
    assertThatThrownBy(() -> b.acquire("k", LockMode.EXCLUSIVE, Duration.ofMillis(200)))
        .isInstanceOf(LockTimeoutException.class);
    h.release();
    b.acquire("k", LockMode.EXCLUSIVE).release();
  }

  @Test
  void breakLock_needsForce_andTheHolderIsToldItLost() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks op = fx.locks("operator");
    LockHandle h = a.acquire("k", LockMode.EXCLUSIVE);
    CountDownLatch lost = new CountDownLatch(1);
    h.onLost(lost::countDown);
    assertThatThrownBy(() -> op.breakLock("k", false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs force");
    assertThat(op.breakLock("k", true)).isEqualTo(1);
    assertThat(lost.await(w(5000).toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    assertThat(h.release()).isEqualTo(ReleaseOutcome.ALREADY_LOST);
    LockHandle next = op.acquire("k", LockMode.EXCLUSIVE);
    assertThat(next.token()).isGreaterThan(h.token());
    next.release();
  }

  @Test
  void requestRevoke_runsTheHoldersCallback() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks op = fx.locks("operator");
    LockHandle h = a.acquire("k", LockMode.EXCLUSIVE);
    CountDownLatch asked = new CountDownLatch(1);
    h.onRevokeRequested(asked::countDown);
    assertThat(op.requestRevoke("k", "operator")).isEqualTo(1);
    assertThat(asked.await(w(5000).toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    assertThat(op.inspect("k").holders().get(0).revokeRequestedBy()).isEqualTo("operator");
    assertThat(h.state()).isEqualTo(LockState.HELD);
    h.release();
  }

  @Test
  void acquireAll_inCanonicalOrder_twoCallersNeverDeadlock() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    AtomicInteger done = new AtomicInteger();
    List<Future<?>> runs = new ArrayList<>();
    for (KeyLocks l : List.of(a, b)) {
      List<String> keys = l == a ? List.of("v1", "v2", "v3") : List.of("v3", "v2", "v1");
      runs.add(
          pool.submit(
              () -> {
                for (int i = 0; i < 20; i++) {
                  List<LockHandle> hs = l.acquireAll(keys, LockMode.EXCLUSIVE, w(10_000));
                  hs.forEach(LockHandle::release);
                  done.incrementAndGet();
                }
                return null;
              }));
    }
    for (Future<?> f : runs) {
      f.get(60, TimeUnit.SECONDS);
    }
    assertThat(done).hasValue(40);
  }

  @Test
  void close_releasesHolds_andFailsWaiters() throws Exception {
    KeyLocks a = fx.locks("a");
    KeyLocks b = fx.locks("b");
    LockHandle h = a.acquire("k", LockMode.EXCLUSIVE);
    LockHandle other = b.acquire("other", LockMode.EXCLUSIVE);
    Future<LockHandle> waiting = pool.submit(() -> b.acquire("k", LockMode.EXCLUSIVE, w(30_000)));
    await().atMost(w(5000)).until(() -> a.inspect("k").waiters().size() == 1);
    b.close();
    assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IllegalStateException.class);
    assertThat(other.state()).isEqualTo(LockState.RELEASED);
    b.close();
    h.release();
    await().atMost(w(5000)).until(() -> lockNodes().isEmpty());
  }

  @Test
  void close_withItsClientStillOpen_leavesNoWatchOnTheServer() throws Exception {
    CuratorFramework client = fx.client(4000);
    KeyLocks a = fx.locks("a", client, KeyRouter.wholeKey());
    KeyLocks b = fx.locks("b");
    LockHandle h = b.acquire("k", LockMode.EXCLUSIVE);
    Future<LockHandle> waiting = pool.submit(() -> a.acquire("k", LockMode.EXCLUSIVE, w(10_000)));
    await().atMost(w(5000)).until(() -> b.inspect("k").waiters().size() == 1);
    h.release();
    waiting.get(10, TimeUnit.SECONDS).release();
    a.close();
    b.close();
    // The client of a stays open: its service must have taken its watches off the server.
    zk.assertNoLeaks();
  }

  @Test
  void releaseWhileDisconnected_pending_thenDeletedAfterReconnect() throws Exception {
    KeyLocks a = fx.locks("a", fx.client(20_000), KeyRouter.wholeKey());
    LockHandle h = a.acquire("k", LockMode.EXCLUSIVE);
    zk.stopServer();
    await().atMost(w(10_000)).until(() -> h.state() == LockState.SUSPENDED);
    assertThatThrownBy(h::ensureValid).isInstanceOf(LockLostException.class);
    assertThat(h.release()).isEqualTo(ReleaseOutcome.PENDING);
    zk.restartServer();
    await().atMost(w(15_000)).until(() -> lockNodes().isEmpty());
  }

  @Test
  void suspendedThenReconnectedInTheSameSession_heldAgainWithTheSameToken() throws Exception {
    KeyLocks a = fx.locks("a", fx.client(20_000), KeyRouter.wholeKey());
    LockHandle h = a.acquire("k", LockMode.EXCLUSIVE);
    long token = h.token();
    zk.stopServer();
    await().atMost(w(10_000)).until(() -> h.state() == LockState.SUSPENDED);
    zk.restartServer();
    await().atMost(w(15_000)).until(() -> h.state() == LockState.HELD);
    assertThat(h.token()).isEqualTo(token);
    h.release();
  }

  @Test
  void badInput_clearErrors() {
    KeyLocks a = fx.locks("a");
    assertThatThrownBy(() -> a.acquire("", LockMode.SHARED))
        .hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> a.acquire("/x", LockMode.SHARED))
        .hasMessageContaining("start or end with '/'");
    assertThatThrownBy(() -> a.acquire("a//b", LockMode.SHARED))
        .hasMessageContaining("empty segment");
    assertThatThrownBy(() -> a.acquire("x".repeat(2000), LockMode.SHARED))
        .hasMessageContaining("at most 1024 bytes");
    assertThatThrownBy(() -> a.acquire(LockRequest.of("k", LockMode.SHARED).withPurpose("\ud800")))
        .hasMessageContaining("lone surrogate");
    assertThatThrownBy(() -> LockMode.parse("write")).hasMessageContaining("got 'write'");
  }
}
