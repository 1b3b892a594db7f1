package io.ringwork.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.ring.KeyRouter;
import io.ringwork.test.FencedStore;
import io.ringwork.test.RingworkZooKeeper;
import io.ringwork.test.StrictHistory;
import io.ringwork.test.StrictHistory.Incarnation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Locks on a 3-node ensemble whose leader is killed while requests, holds and releases run. */
final class KeyLocksClusterTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.ensemble(3).checkingLeaks();

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private Fixture fx;

  @AfterEach
  void tearDown() throws Exception {
    pool.shutdownNow();
    if (fx != null) {
      fx.close();
    }
  }

  /** The index of the ensemble's leader, by the 'srvr' four-letter word; -1 during an election. */
  private int leader() {
    List<Integer> ports = zk.ports();
    for (int i = 0; i < ports.size(); i++) {
      if (RingworkZooKeeper.fourLetterWord(ports.get(i), "srvr").contains("Mode: leader")) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void leaderKilled_duringAcquireHoldAndRelease_neverTwoHolders_noOrphan() throws Exception {
    fx = new Fixture(zk);
    List<KeyLocks> services = new ArrayList<>();
    List<CuratorFramework> clients = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      CuratorFramework c = fx.client(15_000);
      clients.add(c);
      services.add(fx.locks("m" + i, c, KeyRouter.wholeKey()));
    }
    FencedStore ledger = new FencedStore();
    // Every hold per incarnation (member and session). No session may end here (15 s sessions,
    // one server down at a time), so no overlap is excused at all.
    StrictHistory history = StrictHistory.create();
    AtomicInteger holders = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger holds = new AtomicInteger();
    AtomicInteger timeouts = new AtomicInteger();
    // The workers run until both leader kills are over and enough holds were made after them, not
    // for a fixed time: under load (2 cores beside another suite), two elections can take most of
    // a fixed 10 s window (one loop run made exactly 10 holds in it).
    AtomicBoolean running = new AtomicBoolean(true);
    List<Future<?>> runs = new ArrayList<>();
    for (int i = 0; i < services.size(); i++) {
      KeyLocks l = services.get(i);
      CuratorFramework client = clients.get(i);
      runs.add(
          pool.submit(
              () -> {
                while (running.get()) {
                  LockHandle h;
                  try {
                    h = l.acquire("k", LockMode.EXCLUSIVE, Duration.ofSeconds(20));
                  } catch (LockTimeoutException | IllegalStateException e) {
                    timeouts.incrementAndGet();
                    continue;
                  }
                  if (holders.incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                  }
                  StrictHistory.Hold hold =
                      history.lockAcquired(
                          new Incarnation(l.memberId(), sessionOf(client)),
                          "k",
                          StrictHistory.Mode.EXCLUSIVE,
                          h.token());
                  ledger.issued("k", h.token());
                  if (h.state() == LockState.HELD) {
                    ledger.write("k", h.token());
                    holds.incrementAndGet();
                  }
                  Thread.sleep(5);
                  holders.decrementAndGet();
                  hold.close();
                  h.release();
                }
                return null;
              }));
    }
    for (int round = 0; round < 2; round++) {
      Thread.sleep(1500);
      int victim = leader();
      if (victim >= 0) {
        zk.stopServer(victim);
        Thread.sleep(1500);
        zk.restartServer(victim);
      }
    }
    int afterKills = holds.get();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while ((holds.get() - afterKills < 10 || holds.get() <= 10) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    running.set(false);
    for (Future<?> f : runs) {
      f.get(90, TimeUnit.SECONDS);
    }
    assertThat(overlaps).as("two holders at once").hasValue(0);
    assertThat(ledger.rejected()).as("stale writes rejected").isZero();
    assertThat(ledger.staleAccepted()).as("stale writes accepted").isZero();
    history.assertStrict(Duration.ZERO);
    assertThat(history.size()).as("holds recorded").isGreaterThanOrEqualTo(holds.get());
    assertThat(holds.get()).isGreaterThan(10);
    assertThat(holds.get() - afterKills)
        .as("holds after the leader kills")
        .isGreaterThanOrEqualTo(10);
    fx.close();
    fx = null;
    // Every session is closed: no lock node may remain.
    await()
        .atMost(RingworkZooKeeper.scaled(Duration.ofSeconds(30)))
        .untilAsserted(
            () -> {
              CuratorFramework o = zk.client();
              List<String> left = new ArrayList<>();
              String root = "/ringwork/g/locks";
              for (String p : o.getChildren().forPath(root)) {
                for (String q : o.getChildren().forPath(root + "/" + p)) {
                  left.addAll(o.getChildren().forPath(root + "/" + p + "/" + q));
                }
              }
              assertThat(left).isEmpty();
            });
  }

  private static long sessionOf(CuratorFramework c) {
    try {
      return c.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
