package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.GroupConfig;
import io.ringwork.membership.GroupFacts;
import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.Membership;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Placement;
import io.ringwork.ring.Ring;
import io.ringwork.ring.Strategy;
import io.ringwork.ring.ToozRing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * A one-off read of a group for operators: live members with their data, the leader, and the stored
 * assignment's version and per-member partition counts.
 *
 * <p>Errors: every ZooKeeper failure is an unchecked {@link GroupAccessException}; a missing group,
 * config or table is an {@link IllegalArgumentException} naming the path.
 *
 * @param leader the leader's id, or null
 * @param assignmentVersion the stored assignment's version, 0 when none
 * @param members the live members, sorted by id
 */
public record GroupStatus(String leader, long assignmentVersion, List<Row> members) {

  /**
   * One live member.
   *
   * @param id its id
   * @param data its member data as stored (JSON)
   * @param incarnation the zxid that created its node
   * @param since when it joined, epoch milliseconds
   * @param partitions how many partitions it is primary of in the stored assignment
   */
  public record Row(String id, JsonNode data, long incarnation, long since, int partitions) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads a group's status.
   *
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public static GroupStatus read(CuratorFramework client, String groupPath) {
    return GroupAccessException.call(groupPath, () -> load(client, groupPath));
  }

  private static GroupStatus load(CuratorFramework client, String groupPath) throws Exception {
    GroupPaths paths = new GroupPaths(groupPath);
    Assignment assignment = null;
    try {
      AssignmentStore.Stored stored =
          new AssignmentStore(client, paths, KeyRouter.wholeKey()).read(null);
      assignment = stored == null ? null : stored.assignment();
    } catch (CorruptAssignmentException e) {
      assignment = null;
    }
    List<Row> rows = new ArrayList<>();
    List<String> ids;
    try {
      ids = new ArrayList<>(client.getChildren().forPath(paths.members()));
    } catch (KeeperException.NoNodeException e) {
      ids = new ArrayList<>();
    }
    ids.sort(String::compareTo);
    for (String id : ids) {
      Stat stat = new Stat();
      byte[] data;
      try {
        data = client.getData().storingStatIn(stat).forPath(paths.member(id));
      } catch (KeeperException.NoNodeException e) {
        continue;
      }
      JsonNode node;
      try {
        node = JSON.readTree(data);
      } catch (Exception e) {
        node = JSON.createObjectNode().put("corrupt", new String(data, StandardCharsets.UTF_8));
      }
      rows.add(
          new Row(
              id,
              node == null ? JSON.createObjectNode() : node,
              stat.getCzxid(),
              stat.getCtime(),
              assignment == null ? 0 : assignment.primaryCount(id)));
    }
    String leader = null;
    try {
      List<String> latches = client.getChildren().forPath(paths.leader());
      String best = null;
      for (String l : latches) {
        if (best == null
            || l.substring(l.lastIndexOf('-') + 1)
                    .compareTo(best.substring(best.lastIndexOf('-') + 1))
                < 0) {
          best = l;
        }
      }
      if (best != null) {
        leader =
            new String(
                client.getData().forPath(paths.leader() + "/" + best), StandardCharsets.UTF_8);
      }
    } catch (KeeperException.NoNodeException e) {
      leader = null;
    }
    return new GroupStatus(leader, assignment == null ? 0 : assignment.version(), rows);
  }

  /**
   * Reads the table a live group has in force, for one-off lookups: the stored assignment of a
   * {@code balanced} group, or for {@code rendezvous} and {@code tooz} the table every worker
   * computes from the live, non-draining workers and the reserved members (each computes the same
   * one from the same view). Keys are routed with {@code router}, which must be the group's.
   *
   * @throws IllegalArgumentException if the group, its config or (balanced) its assignment does not
   *     exist, naming the path
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public static Ring liveRing(CuratorFramework client, String groupPath, KeyRouter router) {
    return GroupAccessException.call(groupPath, () -> loadRing(client, groupPath, router));
  }

  private static Ring loadRing(CuratorFramework client, String groupPath, KeyRouter router)
      throws Exception {
    GroupPaths paths = new GroupPaths(groupPath);
    GroupConfig config = storedConfig(client, paths);
    if (config.isPartial()) {
      // Written by a lock service that started first (it fixes the partition count only): no
      // rebalancer has joined, so no member owns anything and no table is in force.
      throw new IllegalArgumentException(
          "no rebalancer has started in the group at "
              + groupPath
              + " (its config at "
              + paths.config()
              + " was written by a lock service): no table is in force");
    }
    Strategy strategy = Strategy.parse(config.strategy());
    int partitions = config.partitions();
    int replicas = Math.max(1, config.replicas());
    if (strategy == Strategy.BALANCED) {
      AssignmentStore.Stored stored = new AssignmentStore(client, paths, router).read(null);
      if (stored == null) {
        throw new IllegalArgumentException("no assignment published yet at " + paths.assignment());
      }
      return stored.assignment();
    }
    List<MemberInfo> workers = new ArrayList<>();
    List<String> ids;
    try {
      ids = client.getChildren().forPath(paths.members());
    } catch (KeeperException.NoNodeException e) {
      ids = List.of();
    }
    for (String id : ids) {
      Stat stat = new Stat();
      try {
        byte[] data = client.getData().storingStatIn(stat).forPath(paths.member(id));
        MemberInfo m = Membership.readMember(id, data, stat);
        if (m.isWorker()) {
          workers.add(m);
        }
      } catch (KeeperException.NoNodeException | IllegalArgumentException gone) {
        // left meanwhile, or unreadable: members leave it out of their views too
      }
    }
    // As the workers place: with the reserved members, and only the paused set while paused.
    List<Member> live = FleetState.read(client, paths).placed(workers);
    if (live.isEmpty()) {
      throw new IllegalArgumentException("no live workers under " + paths.members());
    }
    if (strategy == Strategy.TOOZ) {
      return ToozRing.of(live, partitions, replicas);
    }
    return Placement.newBuilder()
        .strategy(strategy)
        .partitions(partitions)
        .replicas(replicas)
        .router(router)
        .buildPartitioned()
        .assign(null, live);
  }

  /**
   * Reads a group's live, non-draining workers with their weights, zones and labels, sorted by id:
   * the members the next placement is computed for (observers and draining members are left out, as
   * every member's view leaves them out).
   *
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public static List<Member> liveWorkers(CuratorFramework client, String groupPath) {
    return GroupAccessException.call(groupPath, () -> loadWorkers(client, groupPath));
  }

  private static List<Member> loadWorkers(CuratorFramework client, String groupPath)
      throws Exception {
    GroupPaths paths = new GroupPaths(groupPath);
    List<Member> live = new ArrayList<>();
    List<String> ids;
    try {
      ids = new ArrayList<>(client.getChildren().forPath(paths.members()));
    } catch (KeeperException.NoNodeException e) {
      ids = new ArrayList<>();
    }
    ids.sort(String::compareTo);
    for (String id : ids) {
      Stat stat = new Stat();
      try {
        byte[] data = client.getData().storingStatIn(stat).forPath(paths.member(id));
        MemberInfo m = Membership.readMember(id, data, stat);
        if (m.isWorker() && !m.draining()) {
          live.add(m.member());
        }
      } catch (KeeperException.NoNodeException | IllegalArgumentException gone) {
        // left meanwhile, or unreadable: members leave it out of their views too
      }
    }
    return live;
  }

  /**
   * Returns the key router stored in a group's config by the member that created it, or empty when
   * the config names none (written before routers were stored, or for a custom router).
   *
   * @throws IllegalArgumentException if the group has no config, naming the path
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public static Optional<KeyRouter> storedRouter(CuratorFramework client, String groupPath) {
    return storedConfig(client, new GroupPaths(groupPath)).keyRouter();
  }

  /**
   * The group's stored config.
   *
   * @throws IllegalArgumentException if there is none, naming the path
   */
  private static GroupConfig storedConfig(CuratorFramework client, GroupPaths paths) {
    return GroupFacts.of(client, paths)
        .config()
        .orElseThrow(() -> new IllegalArgumentException("no group config at " + paths.config()));
  }
}
