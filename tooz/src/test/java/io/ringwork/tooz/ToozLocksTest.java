package io.ringwork.tooz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ringwork.lock.LockLostException;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.lock.ReleaseOutcome;
import io.ringwork.test.RingworkZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * tooz-compatible locks on a real server, Java side only (real tooz contends with them in the
 * simulator's ToozInteropTest).
 */
final class ToozLocksTest {

  private TestingServer server;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 500, -1), true);
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    server.close();
  }

  private CuratorFramework client() throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(server.getConnectString())
            .sessionTimeoutMs(3000)
            .retryPolicy(new ExponentialBackoffRetry(50, 10, 500))
            .build();
    c.start();
    c.blockUntilConnected(10, TimeUnit.SECONDS);
    open.add(c);
    return c;
  }

  private ToozLocks locks(String id) throws InterruptedException {
    ToozLocks l = ToozLocks.newBuilder().client(client()).memberId(id).build();
    open.add(l);
    return l;
  }

  @Test
  void layout_isKazoos_persistentParents_memberIdAsData() throws Exception {
    ToozLocks a = locks("java-a");
    ToozLock l = a.acquire("job/42", LockMode.EXCLUSIVE, Duration.ofSeconds(5));
    CuratorFramework c = client();
    for (String p : List.of("/tooz", "/tooz/locks", "/tooz/locks/job", "/tooz/locks/job/42")) {
      Stat s = c.checkExists().forPath(p);
      assertThat(s.getEphemeralOwner()).as(p).isZero();
      assertThat(c.getData().forPath(p)).as(p).isEmpty();
    }
    assertThat(l.path()).matches("/tooz/locks/job/42/.*__lock__\\d{10}");
    assertThat(new String(c.getData().forPath(l.path()), StandardCharsets.UTF_8))
        .isEqualTo("java-a");
    assertThat(l.token()).isEqualTo(c.checkExists().forPath(l.path()).getCzxid());
    l.release();
    assertThat(c.getChildren().forPath("/tooz/locks/job/42")).isEmpty();
    assertThat(c.checkExists().forPath("/tooz/locks/job/42")).as("kept, as tooz").isNotNull();
  }

  @Test
  void exclusive_excludes_readersShare_otherChildrenIgnored() throws Exception {
    ToozLocks a = locks("a");
    ToozLocks b = locks("b");
    CuratorFramework c = client();
    // Children kazoo does not count (Curator's default naming, kazoo's own readers) are ignored.
    a.acquire("L", LockMode.SHARED, Duration.ofSeconds(5)).release();
    c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/tooz/locks/L/_c_x-lock-");
    c.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/tooz/locks/L/x__rlock__");
    ToozLock x = a.acquire("L", LockMode.EXCLUSIVE, Duration.ofSeconds(5));
    assertThatThrownBy(() -> b.acquire("L", LockMode.SHARED, Duration.ofMillis(300)))
        .isInstanceOf(LockTimeoutException.class)
        .hasMessageContaining("'a'");
    assertThat(c.getChildren().forPath("/tooz/locks/L")).hasSize(3); // the timed-out node went
    x.release();
    ToozLock r1 = a.acquire("L", LockMode.SHARED, Duration.ofSeconds(5));
    ToozLock r2 = b.acquire("L", LockMode.SHARED, Duration.ofSeconds(5));
    assertThat(r1.path()).contains("-read__lock__");
    assertThat(b.tryAcquire("L", LockMode.EXCLUSIVE)).isEmpty();
    // A writer queued behind the readers holds up later readers (FIFO), then gets the lock.
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<ToozLock> w =
        pool.submit(() -> b.acquire("L", LockMode.EXCLUSIVE, Duration.ofSeconds(10)));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> ToozLocks.contenders(c, "/tooz/locks/L").size() == 3);
    assertThat(a.tryAcquire("L", LockMode.SHARED)).as("a reader behind a queued writer").isEmpty();
    r1.release();
    r2.release();
    ToozLock wl = w.get(10, TimeUnit.SECONDS);
    assertThat(wl.token()).isGreaterThan(r2.token());
    assertThat(ToozLocks.contenders(c, "/tooz/locks/L"))
        .extracting(ToozLocks.Contender::memberId)
        .containsExactly("b");
    wl.release();
    pool.shutdown();
  }

  @Test
  void sessionExpired_theLockIsLost_andReleaseSaysSo() throws Exception {
    CuratorFramework c = client();
    ToozLocks a = ToozLocks.newBuilder().client(c).memberId("a").build();
    open.add(a);
    ToozLock l = a.acquire("L", LockMode.EXCLUSIVE, Duration.ofSeconds(5));
    CountDownLatch lost = new CountDownLatch(1);
    l.onLost(lost::countDown);
    RingworkZooKeeper.expire(c);
    assertThat(lost.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(l.state()).isEqualTo(LockState.LOST);
    assertThatThrownBy(l::ensureValid).isInstanceOf(LockLostException.class);
    assertThat(l.release()).isEqualTo(ReleaseOutcome.ALREADY_LOST);
    ToozLocks b = locks("b");
    assertThat(b.tryAcquire("L", LockMode.EXCLUSIVE)).isPresent();
  }

  @Test
  void badInput_refused() throws Exception {
    ToozLocks a = locks("a");
    assertThatThrownBy(() -> a.acquire("L", LockMode.UPGRADABLE, Duration.ofSeconds(1)))
        .hasMessageContaining("SHARED or EXCLUSIVE");
    assertThatThrownBy(() -> a.acquire("a//b", LockMode.EXCLUSIVE, Duration.ofSeconds(1)))
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> ToozLocks.newBuilder().client(client()).memberId("ä").build())
        .hasMessageContaining("ASCII");
  }
}
