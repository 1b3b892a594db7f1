package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ringwork.lock.AlreadyHeldException;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.KeyLockState;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockInfo;
import io.ringwork.lock.LockMode;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Rebalancer#tryGuard}, {@link Rebalancer#partition} and the guard's {@link
 * AlreadyHeldException} (issue 23), on a real server.
 */
final class TryGuardTest {

  private static final int P = 16;
  private static final Duration STABLE = RingworkZooKeeper.scaled(Duration.ofSeconds(20));

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private static Duration w(long ms) {
    return RingworkZooKeeper.scaled(Duration.ofMillis(ms));
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
            .build();
    open.add(0, r);
    r.start();
    assertThat(r.awaitStable(STABLE)).isTrue();
    return r;
  }

  private KeyLocks foreign(String id) {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .sessionTimeoutMs(3000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5, 500))
            .ensembleTracker(false)
            .build();
    c.start();
    KeyLocks l = KeyLocks.newBuilder().client(c).group("conductors").memberId(id).build();
    open.add(0, c);
    open.add(0, l);
    l.start();
    return l;
  }

  /** Waits until a key's owner can guard it on the fast path (its partition's locks listed). */
  private static KeyGuard awaitTryGuard(Rebalancer r, String key) {
    List<KeyGuard> got = new ArrayList<>();
    await()
        .atMost(w(10_000))
        .pollInterval(Duration.ofMillis(5))
        .until(
            () -> {
              Optional<KeyGuard> g = r.tryGuard(key, LockMode.EXCLUSIVE);
              g.ifPresent(got::add);
              return g.isPresent();
            });
    return got.get(0);
  }

  private static String keyOwnedBy(Rebalancer owner) {
    for (int i = 0; ; i++) {
      if (owner.grant("node-" + i).isPresent()) {
        return "node-" + i;
      }
    }
  }

  @Test
  void tryGuard_ownedKey_guardsOnTheFastPathWithTheGrantsToken() throws Exception {
    Rebalancer r = worker("w1", KeyRouter.wholeKey());
    long grant = r.grant("node-1").orElseThrow().token();
    try (KeyGuard g = awaitTryGuard(r, "node-1")) {
      assertThat(g.fastPath()).isTrue();
      assertThat(g.token()).isGreaterThanOrEqualTo(grant);
      assertThat(g.isValid()).isTrue();
    }
    assertThat(r.locks().inspect("node-1").holders()).isEmpty();
  }

  @Test
  void tryGuard_keyOfAnotherMember_isEmptyAtOnceAndQueuesNothing() throws Exception {
    Rebalancer w1 = worker("w1", KeyRouter.wholeKey());
    Rebalancer w2 = worker("w2", KeyRouter.wholeKey());
    await().atMost(STABLE).until(() -> w1.awaitStable(w(100)) && w2.awaitStable(w(100)));
    String key = keyOwnedBy(w2);
    awaitTryGuard(w2, key).close();
    for (int i = 0; i < 1000; i++) {
      assertThat(w1.tryGuard(key, LockMode.SHARED)).isEmpty();
    }
    KeyLockState state = w2.locks().inspect(key);
    assertThat(state.holders()).isEmpty();
    assertThat(state.waiters()).isEmpty();
    // The owner keeps its fast path: nobody asked for the key.
    try (KeyGuard g = w2.tryGuard(key, LockMode.EXCLUSIVE).orElseThrow()) {
      assertThat(g.fastPath()).isTrue();
    }
  }

  @Test
  void tryGuard_foreignLockOnAnOwnedKey_isEmptyWithoutQueueing_thenResumesAboveItsToken()
      throws Exception {
    Rebalancer owner = worker("w1", KeyRouter.wholeKey());
    KeyLocks api = foreign("api");
    awaitTryGuard(owner, "node-7").close();
    LockHandle h = api.acquire("node-7", LockMode.EXCLUSIVE, w(10_000));
    // Granted only after the owner yielded, so the owner has seen the request: no fast path now.
    assertThat(owner.tryGuard("node-7", LockMode.SHARED)).isEmpty();
    KeyLockState state = api.inspect("node-7");
    assertThat(state.holders()).extracting(LockInfo::member).containsExactly("api");
    assertThat(state.waiters()).isEmpty();
    long foreignToken = h.token();
    h.release();
    try (KeyGuard g = awaitTryGuard(owner, "node-7")) {
      assertThat(g.token()).isGreaterThan(foreignToken);
    }
  }

  @Test
  void partition_isTheKeysPartitionByTheGroupsRouter() throws Exception {
    Rebalancer r = worker("w1", KeyRouter.upTo(':'));
    int p = r.partition("tenant-3:node-1");
    assertThat(r.partition("tenant-3:node-2")).isEqualTo(p);
    assertThat(r.assignment().orElseThrow().partition("tenant-3:node-1")).isEqualTo(p);
    assertThat(r.locks().partition("tenant-3:node-1")).isEqualTo(p);
    assertThat(r.grant("tenant-3:node-1").orElseThrow().partition()).isEqualTo(p);
    assertThat(p).isBetween(0, P - 1);
  }

  @Test
  void guard_whileAnotherThreadOfTheMemberHoldsALockOnTheKey_throwsAlreadyHeld() throws Exception {
    Rebalancer w1 = worker("w1", KeyRouter.wholeKey());
    Rebalancer w2 = worker("w2", KeyRouter.wholeKey());
    await().atMost(STABLE).until(() -> w1.awaitStable(w(100)) && w2.awaitStable(w(100)));
    String key = keyOwnedBy(w2); // w1's guard on it goes through a lock
    LockHandle held = w1.locks().acquire(key, LockMode.EXCLUSIVE, w(10_000));
    try {
      Thread other =
          new Thread(
              () ->
                  assertThatThrownBy(() -> w1.guard(key, LockMode.SHARED, w(5000)))
                      .isInstanceOf(AlreadyHeldException.class));
      List<Throwable> failed = new ArrayList<>();
      other.setUncaughtExceptionHandler((t, e) -> failed.add(e));
      other.start();
      other.join(w(20_000).toMillis());
      assertThat(other.isAlive()).isFalse();
      assertThat(failed).isEmpty();
    } finally {
      held.release();
    }
    try (KeyGuard g = w1.guard(key, LockMode.SHARED, w(10_000))) {
      assertThat(g.fastPath()).isFalse(); // a lock, now that no thread of w1 holds one
    }
  }
}
