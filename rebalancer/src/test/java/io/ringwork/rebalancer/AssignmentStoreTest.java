package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Placement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class AssignmentStoreTest {

  private TestingServer server;
  private CuratorFramework client;

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(true);
    client = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
    client.start();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    server.close();
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
    PartitionPlacement placement =
        (PartitionPlacement) Placement.newBuilder().partitions(65536).build();
    AssignmentStore store = new AssignmentStore(client, "/ringwork/g", KeyRouter.wholeKey());
    assertThat(store.read(null)).isNull();
    List<Member> members = members(10);
    long[] written = new long[1];
    AssignmentStore.Stored stored = store.publish(null, placement.assign(null, members), written);
    AssignmentStore.Stored reader = store.read(null);
    assertThat(reader.assignment().table()).isEqualTo(stored.assignment().table());
    for (int i = 0; i < AssignmentStore.MAX_DELTAS + 3; i++) {
      members.add(Member.of("j" + i));
      Assignment next = placement.assign(stored.assignment(), members);
      stored = store.publish(stored, next, written);
      if (i < AssignmentStore.MAX_DELTAS - 1) {
        // A one-member change at P = 65,536 is a delta well under 64 KB.
        assertThat(written[0]).isLessThan(64 * 1024);
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
    PartitionPlacement placement =
        (PartitionPlacement) Placement.newBuilder().partitions(64).build();
    AssignmentStore store = new AssignmentStore(client, "/ringwork/g", KeyRouter.wholeKey());
    long[] written = new long[1];
    AssignmentStore.Stored first = store.publish(null, placement.assign(null, members(2)), written);
    store.publish(first, placement.assign(first.assignment(), members(3)), written);
    // A deposed leader still holding 'first' cannot overwrite its successor.
    assertThatThrownBy(
            () -> store.publish(first, placement.assign(first.assignment(), members(4)), written))
        .isInstanceOf(KeeperException.BadVersionException.class);
  }

  @Test
  void read_corruptHeader_namesThePath() throws Exception {
    client
        .create()
        .creatingParentsIfNeeded()
        .forPath("/ringwork/g/assignment", "{oops".getBytes(StandardCharsets.UTF_8));
    AssignmentStore store = new AssignmentStore(client, "/ringwork/g", KeyRouter.wholeKey());
    assertThatThrownBy(() -> store.read(null))
        .isInstanceOf(CorruptAssignmentException.class)
        .hasMessageContaining("/ringwork/g/assignment")
        .hasMessageContaining("{oops");
  }
}
