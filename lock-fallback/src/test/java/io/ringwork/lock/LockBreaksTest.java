package io.ringwork.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.membership.GroupPaths;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A forced break is recorded in ZooKeeper, and the records stay bounded (issue 23). */
final class LockBreaksTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final Fixture f = new Fixture(zk);

  @AfterEach
  void tearDown() throws Exception {
    f.close();
  }

  @Test
  void breakLock_recordsWhoBrokeWhichHolderAndWhen() throws Exception {
    KeyLocks holder = f.locks("w1");
    KeyLocks ops = f.locks("ops-alice");
    LockHandle h =
        holder.acquire(
            LockRequest.of("node-7", LockMode.EXCLUSIVE)
                .withPurpose("reimage")
                .withTimeout(RingworkZooKeeper.scaled(Duration.ofSeconds(10))));
    long before = System.currentTimeMillis();
    assertThat(ops.breakLock("node-7", true)).isEqualTo(1);
    await()
        .atMost(RingworkZooKeeper.scaled(Duration.ofSeconds(10)))
        .until(() -> h.state() == LockState.LOST);

    List<LockBreak> breaks = holder.breaks(); // any member reads them
    assertThat(breaks).hasSize(1);
    LockBreak b = breaks.get(0);
    assertThat(b.key()).isEqualTo("node-7");
    assertThat(b.by()).isEqualTo("ops-alice");
    assertThat(b.atMillis()).isBetween(before, System.currentTimeMillis());
    assertThat(b.holders())
        .containsExactly(
            new LockBreak.Holder(
                "w1", LockMode.EXCLUSIVE, h.token(), b.holders().get(0).since(), "reimage"));
    // Nothing held, nothing recorded.
    assertThat(ops.breakLock("node-8", true)).isZero();
    assertThat(ops.breaks()).hasSize(1);
  }

  @Test
  void records_keepTheNewestOnly() throws Exception {
    CuratorFramework client = f.client(4000);
    GroupPaths paths = GroupPaths.of("/ringwork", Fixture.GROUP);
    int written = LockBreak.KEPT + 5;
    for (int i = 0; i < written; i++) {
      LockBreaks.record(
          client,
          paths,
          new LockBreak(
              "k-" + i,
              "ops",
              System.currentTimeMillis(),
              List.of(new LockBreak.Holder("w1", LockMode.SHARED, i + 1, 0, ""))));
    }
    List<LockBreak> kept = LockBreaks.read(client, paths);
    assertThat(kept).hasSize(LockBreak.KEPT);
    assertThat(kept.get(0).key()).isEqualTo("k-" + (written - 1)); // newest first
    assertThat(kept.get(kept.size() - 1).key()).isEqualTo("k-5");
    assertThat(client.getChildren().forPath(paths.lockBreaks())).hasSize(LockBreak.KEPT);
  }
}
