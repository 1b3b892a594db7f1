package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.FleetState.Reservation;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link FleetWatch} on its own against a real server, with the event thread played by the test:
 * what a member sees first and what it sees of later changes. It runs on a client of its own, as a
 * member does: Curator's {@code PersistentWatcher.close()} forgets its watch locally and the server
 * drops it with the session (the same holds for the membership's and the handoff's watches).
 */
final class FleetWatchTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final ConcurrentLinkedQueue<Runnable> eventThread = new ConcurrentLinkedQueue<>();

  private void runQueued() {
    Runnable r;
    while ((r = eventThread.poll()) != null) {
      r.run();
    }
  }

  @Test
  void firstTask_readsEveryReservation_laterChangesArrive() throws Exception {
    GroupPaths paths = GroupPaths.of("/ringwork", "g");
    Member absent = Member.of("b", 2, "z1");
    zk.client()
        .create()
        .creatingParentsIfNeeded()
        .forPath(
            paths.reservation("b"),
            FleetCodec.reservation(absent, Reservation.State.RESTARTING, 30_000));
    CuratorFramework own =
        CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
    own.start();
    FleetWatch watch =
        new FleetWatch(
            own,
            paths,
            Member.of("c"),
            Duration.ZERO,
            null,
            eventThread::add,
            (task, delay) -> null,
            () -> {});
    try {
      watch.start();
      // The first task on the event thread, ahead of any view, reads every control: a first
      // placement from it keeps b's share for b.
      eventThread.poll().run();
      FleetState first = watch.state();
      assertThat(first.reservations()).containsOnlyKeys("b");
      assertThat(first.reservations().get("b").member()).isEqualTo(absent);
      assertThat(first.placed(List.of())).containsExactly(absent);

      zk.client().delete().forPath(paths.reservation("b"));
      await()
          .atMost(RingworkZooKeeper.scaled(Duration.ofSeconds(10)))
          .until(
              () -> {
                runQueued();
                return watch.state().reservations().isEmpty();
              });
    } finally {
      watch.close();
      own.close();
    }
  }
}
