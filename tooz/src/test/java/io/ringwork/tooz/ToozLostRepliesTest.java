package io.ringwork.tooz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.lock.LockMode;
import io.ringwork.membership.LostReplyZooKeeper;
import io.ringwork.membership.LostReplyZooKeeper.Call;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 18, case 6 (tooz side): a lock or leadership node the server created while the client saw
 * ConnectionLoss. The client's handle loses exactly one reply ({@link LostReplyZooKeeper}); Curator
 * retries as it does for any ConnectionLoss, and the holder must end up with the node the server
 * holds (one contender, the token its czxid).
 */
final class ToozLostRepliesTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final LostReplyZooKeeper.Factory lost = LostReplyZooKeeper.factory();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private static Duration w(long millis) {
    return RingworkZooKeeper.scaled(Duration.ofMillis(millis));
  }

  /** A client whose handle loses the replies {@link #lost} is armed for. */
  private CuratorFramework lossyClient() throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .zookeeperFactory(lost)
            .sessionTimeoutMs(4000)
            .connectionTimeoutMs(2000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5, 500))
            .ensembleTracker(false)
            .build();
    c.start();
    assertThat(c.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
    open.add(0, c);
    return c;
  }

  @Test
  void toozLock_createReplyLost_tokenIsTheNodesCzxid() throws Exception {
    ToozLocks locks = ToozLocks.newBuilder().client(lossyClient()).memberId("a").build();
    open.add(0, locks);
    lost.loseReply(Call.CREATE, path -> path.contains("__lock__"));

    ToozLock lock = locks.acquire("res", LockMode.EXCLUSIVE, w(5000));

    assertThat(lost.lost()).as("replies lost").isEqualTo(1);
    Stat node = zk.client().checkExists().forPath(lock.path());
    assertThat(node).isNotNull();
    assertThat(lock.token()).isEqualTo(node.getCzxid()).isPositive();
    assertThat(ToozLocks.contenders(zk.client(), locks.lockPath("res"))).hasSize(1);
    lock.release();
  }

  @Test
  void toozElection_createReplyLost_leadershipTokenIsTheNodesCzxid() throws Exception {
    CuratorFramework c = lossyClient();
    lost.loseReply(Call.CREATE, path -> path.contains("__lock__"));
    ToozElection election = ToozElection.newBuilder().client(c).group("g").memberId("a").build();
    open.add(0, election);
    election.start();

    await().atMost(w(10_000)).until(election::isLeader);

    assertThat(lost.lost()).as("replies lost").isEqualTo(1);
    ToozLock lock = election.leadership().orElseThrow();
    Stat node = zk.client().checkExists().forPath(lock.path());
    assertThat(node).isNotNull();
    assertThat(lock.token()).isEqualTo(node.getCzxid()).isPositive();
  }
}
