package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.LostReplyZooKeeper;
import io.ringwork.membership.LostReplyZooKeeper.Call;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Placement;
import io.ringwork.test.RingworkZooKeeper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class AssignmentStoreTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private CuratorFramework client;

  @BeforeEach
  void start() throws Exception {
    client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
    client.start();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
  }

  private static List<Member> members(int n) {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      members.add(Member.of("w" + i));
    }
    return members;
  }

  @Test
  void publishAndRead_deltasThenCompaction_roundTrip() throws Exception {
    PartitionPlacement placement = Placement.newBuilder().partitions(65536).buildPartitioned();
    AssignmentStore store =
        new AssignmentStore(client, new GroupPaths("/ringwork/g"), KeyRouter.wholeKey());
    assertThat(store.read(null)).isNull();
    List<Member> members = members(10);
    AssignmentStore.Stored stored = store.publish(null, placement.assign(null, members)).stored();
    AssignmentStore.Stored reader = store.read(null);
    assertThat(reader.assignment().table()).isEqualTo(stored.assignment().table());
    for (int i = 0; i < AssignmentStore.MAX_DELTAS + 3; i++) {
      members.add(Member.of("j" + i));
      Assignment next = placement.assign(stored.assignment(), members);
      AssignmentStore.Published published = store.publish(stored, next);
      stored = published.stored();
      if (i < AssignmentStore.MAX_DELTAS - 1) {
        // A one-member change at P = 65,536 is a delta well under 64 KB.
        assertThat(published.bytes()).isLessThan(64 * 1024);
        assertThat(stored.base()).isEqualTo(1);
      }
      reader = store.read(reader);
      assertThat(reader.assignment().table()).isEqualTo(next.table());
      assertThat(reader.assignment().version()).isEqualTo(next.version());
      assertThat(reader.zxid()).isEqualTo(stored.zxid());
    }
    assertThat(stored.base()).isGreaterThan(1);
    // Compaction removed what the new base made unnecessary; a fresh reader still reads it.
    assertThat(client.getChildren().forPath("/ringwork/g/assignment-data"))
        .noneMatch(c -> c.startsWith("base-0000000000000000001-"));
    assertThat(store.read(null).assignment().table()).isEqualTo(stored.assignment().table());
  }

  @Test
  void publish_staleHeaderVersion_rejected() throws Exception {
    PartitionPlacement placement = Placement.newBuilder().partitions(64).buildPartitioned();
    AssignmentStore store =
        new AssignmentStore(client, new GroupPaths("/ringwork/g"), KeyRouter.wholeKey());
    AssignmentStore.Stored first = store.publish(null, placement.assign(null, members(2))).stored();
    store.publish(first, placement.assign(first.assignment(), members(3)));
    // A deposed leader still holding 'first' cannot overwrite its successor.
    assertThatThrownBy(() -> store.publish(first, placement.assign(first.assignment(), members(4))))
        .isInstanceOf(KeeperException.BadVersionException.class);
  }

  /**
   * Issue 10: a publisher that loses the race for a version used to overwrite the winner's snapshot
   * chunks before its compare-and-set failed, so readers applied a different table under the
   * winner's version. Both for the first version and for a later full snapshot.
   */
  @Test
  void twoPublishersOfOneVersion_loserChangesNothingAReaderSees() throws Exception {
    PartitionPlacement placement = Placement.newBuilder().partitions(64).buildPartitioned();
    GroupPaths paths = new GroupPaths("/ringwork/g");
    AssignmentStore winner = new AssignmentStore(client, paths, KeyRouter.wholeKey());
    AssignmentStore loser = new AssignmentStore(client, paths, KeyRouter.wholeKey());

    Assignment won = placement.assign(null, members(2));
    Assignment lost = placement.assign(null, members(3));
    assertThat(lost.table()).isNotEqualTo(won.table());
    AssignmentStore.Stored stored = winner.publish(null, won).stored();
    assertThatThrownBy(() -> loser.publish(null, lost))
        .isInstanceOf(KeeperException.NodeExistsException.class);
    assertThat(winner.read(null).assignment().table()).isEqualTo(won.table());

    // Walk to the version whose successor is a full snapshot again, then race for it.
    List<Member> members = members(2);
    for (int i = 0; i < AssignmentStore.MAX_DELTAS; i++) {
      members.add(Member.of("j" + i));
      stored = winner.publish(stored, placement.assign(stored.assignment(), members)).stored();
    }
    AssignmentStore.Stored both = stored;
    Assignment winning =
        placement.assign(both.assignment(), List.of(Member.of("a"), Member.of("b")));
    Assignment losing =
        placement.assign(both.assignment(), List.of(Member.of("c"), Member.of("d")));
    AssignmentStore.Stored committed = winner.publish(both, winning).stored();
    assertThat(committed.base()).isEqualTo(committed.assignment().version());
    assertThatThrownBy(() -> loser.publish(both, losing))
        .isInstanceOf(KeeperException.BadVersionException.class);
    AssignmentStore.Stored read =
        new AssignmentStore(client, paths, KeyRouter.wholeKey()).read(null);
    assertThat(read.assignment().version()).isEqualTo(winning.version());
    assertThat(read.assignment().table()).isEqualTo(winning.table());
    // The loser removed what it wrote: only the winner's chunks carry that version.
    String version = String.format("%019d", winning.version());
    assertThat(client.getChildren().forPath(paths.assignmentData()))
        .filteredOn(c -> c.startsWith("base-" + version))
        .hasSize(1);
  }

  /** A client whose handle loses the replies {@code lost} is armed for. */
  private CuratorFramework lossyClient(LostReplyZooKeeper.Factory lost) throws Exception {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .zookeeperFactory(lost)
            .retryPolicy(new RetryOneTime(100))
            .build();
    c.start();
    assertThat(c.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
    return c;
  }

  /**
   * Issue 18: the header's reply of a publish is lost (committed, ConnectionLoss, Curator's retry
   * meets the commit): the publisher reads the header back and returns what it committed, for a
   * first snapshot and for a delta.
   */
  @Test
  void publish_headerReplyLost_readsItsCommitBack() throws Exception {
    PartitionPlacement placement = Placement.newBuilder().partitions(64).buildPartitioned();
    GroupPaths paths = new GroupPaths("/ringwork/g");
    LostReplyZooKeeper.Factory lost = LostReplyZooKeeper.factory();
    try (CuratorFramework lossy = lossyClient(lost)) {
      AssignmentStore store = new AssignmentStore(lossy, paths, KeyRouter.wholeKey());
      lost.loseReply(Call.MULTI, paths.assignment()::equals);
      Assignment first = placement.assign(null, members(2));
      AssignmentStore.Stored stored = store.publish(null, first).stored();
      assertThat(lost.lost()).isEqualTo(1);
      lost.loseReply(Call.MULTI, paths.assignment()::equals);
      Assignment second = placement.assign(first, members(3));
      stored = store.publish(stored, second).stored();
      assertThat(lost.lost()).isEqualTo(2);
      assertThat(stored.assignment().version()).isEqualTo(second.version());
      AssignmentStore.Stored read =
          new AssignmentStore(client, paths, KeyRouter.wholeKey()).read(null);
      assertThat(read.assignment().table()).isEqualTo(second.table());
      assertThat(read.zxid()).isEqualTo(stored.zxid());
    }
  }

  /**
   * Issue 18: a snapshot publisher whose reply is lost, while another publisher builds a delta on
   * top of its commit, cannot learn that it won (the header has moved on); it must still not delete
   * the chunks the committed header names.
   */
  @Test
  void snapshotHeaderReplyLost_anotherCommitOnTop_chunksTheHeaderNamesStay() throws Exception {
    PartitionPlacement placement = Placement.newBuilder().partitions(64).buildPartitioned();
    GroupPaths paths = new GroupPaths("/ringwork/g");
    AssignmentStore other = new AssignmentStore(client, paths, KeyRouter.wholeKey());
    Assignment first = placement.assign(null, members(2));
    Assignment[] onTop = new Assignment[1];
    LostReplyZooKeeper.Factory lost = LostReplyZooKeeper.factory();
    try (CuratorFramework lossy = lossyClient(lost)) {
      AssignmentStore store = new AssignmentStore(lossy, paths, KeyRouter.wholeKey());
      lost.loseReply(
          Call.MULTI,
          paths.assignment()::equals,
          () -> {
            try {
              AssignmentStore.Stored committed = other.read(null);
              onTop[0] = placement.assign(committed.assignment(), members(3));
              other.publish(committed, onTop[0]);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      assertThatThrownBy(() -> store.publish(null, first))
          .isInstanceOf(KeeperException.NodeExistsException.class);
    }
    assertThat(lost.lost()).isEqualTo(1);
    AssignmentStore.Stored read =
        new AssignmentStore(client, paths, KeyRouter.wholeKey()).read(null);
    assertThat(read.assignment().version()).isEqualTo(onTop[0].version());
    assertThat(read.assignment().table()).isEqualTo(onTop[0].table());
  }

  @Test
  void read_corruptHeader_namesThePath() throws Exception {
    client
        .create()
        .creatingParentsIfNeeded()
        .forPath("/ringwork/g/assignment", "{oops".getBytes(StandardCharsets.UTF_8));
    AssignmentStore store =
        new AssignmentStore(client, new GroupPaths("/ringwork/g"), KeyRouter.wholeKey());
    assertThatThrownBy(() -> store.read(null))
        .isInstanceOf(CorruptAssignmentException.class)
        .hasMessageContaining("/ringwork/g/assignment")
        .hasMessageContaining("{oops");
  }
}
