package io.ringwork.lock;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.membership.LostReplyZooKeeper;
import io.ringwork.membership.LostReplyZooKeeper.Call;
import io.ringwork.ring.KeyRouter;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 18, case 6 (lock side): writes the server applied while the client saw ConnectionLoss. The
 * client's handle loses exactly one reply ({@link LostReplyZooKeeper}); Curator then retries as it
 * does for any ConnectionLoss, and the lock must end up agreeing with the server.
 */
final class LostRepliesTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final LostReplyZooKeeper.Factory lost = LostReplyZooKeeper.factory();
  private final List<AutoCloseable> open = new ArrayList<>();
  private final Fixture fx = new Fixture(zk);

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    fx.close();
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

  private KeyLocks lossyLocks(String member) throws InterruptedException {
    return fx.locks(member, lossyClient(), KeyRouter.wholeKey());
  }

  /** The mode the server holds for a request node, read from its data. */
  private LockMode serverMode(String path) throws Exception {
    return LockData.decode(path, zk.client().getData().forPath(path)).mode();
  }

  @Test
  void downgrade_replyLost_handleAgreesWithTheServer() throws Exception {
    KeyLocks a = lossyLocks("a");
    KeyLocks b = fx.locks("b");
    LockHandle x = a.acquire("k", LockMode.EXCLUSIVE);
    long token = x.token();
    lost.loseReply(Call.SET_DATA, x.path()::equals);

    x.downgrade(LockMode.SHARED);

    assertThat(lost.lost()).as("replies lost").isEqualTo(1);
    assertThat(serverMode(x.path())).isEqualTo(LockMode.SHARED);
    assertThat(x.mode()).isEqualTo(LockMode.SHARED);
    assertThat(x.token()).isEqualTo(token);
    assertThat(x.state()).isEqualTo(LockState.HELD);
    // The server admits readers now, and the handle says so.
    Optional<LockHandle> reader = b.tryAcquire("k", LockMode.SHARED);
    assertThat(reader).isPresent();
    reader.get().release();
    x.release();
  }

  @Test
  void downgradeOfAnUpgrade_toItsBase_replyLost_handleAgreesWithTheServer() throws Exception {
    KeyLocks a = lossyLocks("a");
    KeyLocks b = fx.locks("b");
    LockHandle u = a.acquire("k", LockMode.UPGRADABLE);
    u.upgrade(w(5000));
    assertThat(u.mode()).isEqualTo(LockMode.EXCLUSIVE);
    String queue = u.path().substring(0, u.path().lastIndexOf('/'));
    lost.loseReply(Call.DELETE, path -> path.startsWith(queue + "/u-"));

    u.downgrade(LockMode.UPGRADABLE);

    assertThat(lost.lost()).as("replies lost").isEqualTo(1);
    assertThat(zk.client().getChildren().forPath(queue)).noneMatch(n -> n.startsWith("u-"));
    assertThat(u.mode()).isEqualTo(LockMode.UPGRADABLE);
    Optional<LockHandle> reader = b.tryAcquire("k", LockMode.SHARED);
    assertThat(reader).isPresent();
    reader.get().release();
    u.release();
  }

  @Test
  void downgradeOfAnUpgrade_toShared_replyLost_handleAgreesWithTheServer() throws Exception {
    KeyLocks a = lossyLocks("a");
    KeyLocks b = fx.locks("b");
    LockHandle u = a.acquire("k", LockMode.UPGRADABLE);
    u.upgrade(w(5000));
    String queue = u.path().substring(0, u.path().lastIndexOf('/'));
    lost.loseReply(Call.MULTI, u.path()::equals);

    u.downgrade(LockMode.SHARED);

    assertThat(lost.lost()).as("replies lost").isEqualTo(1);
    assertThat(serverMode(u.path())).isEqualTo(LockMode.SHARED);
    assertThat(zk.client().getChildren().forPath(queue)).noneMatch(n -> n.startsWith("u-"));
    assertThat(u.mode()).isEqualTo(LockMode.SHARED);
    Optional<LockHandle> reader = b.tryAcquire("k", LockMode.SHARED);
    assertThat(reader).isPresent();
    reader.get().release();
    u.release();
  }
}
