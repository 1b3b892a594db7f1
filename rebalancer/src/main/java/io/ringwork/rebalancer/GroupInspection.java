package io.ringwork.rebalancer;

import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.GroupConfig;
import io.ringwork.membership.GroupFacts;
import io.ringwork.membership.GroupPaths;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * What an operator sees of a live group's handoff, read without changing anything: the group's
 * config, the leader's barrier (the state every worker last agreed on) and each worker's
 * acknowledgement. A worker whose acknowledgement names another state than the barrier, or that has
 * none, is what a handoff in progress waits for. Unreadable nodes are reported, never fatal;
 * unknown fields are ignored.
 *
 * @param strategy the group's strategy, from its config ("?" when unreadable)
 * @param partitions P, from its config (0 when unreadable)
 * @param barrierState the state of the last completed handoff, "" when none
 * @param barrierSince when the barrier was written, epoch milliseconds (0 when none)
 * @param acks every acknowledgement, sorted by member id
 * @param problems nodes that could not be read, with why
 */
public record GroupInspection(
    String strategy,
    int partitions,
    String barrierState,
    long barrierSince,
    List<AckRow> acks,
    List<String> problems) {

  /**
   * One worker's acknowledgement.
   *
   * @param member the worker
   * @param state the state it has applied, or null when unreadable
   * @param since when it wrote it, epoch milliseconds
   */
  public record AckRow(String member, String state, long since) {}

  /** Copies the lists. */
  public GroupInspection {
    acks = List.copyOf(acks);
    problems = List.copyOf(problems);
  }

  /** Returns whether a handoff is under way: some worker has not acknowledged the barrier. */
  public boolean handoffInProgress(List<String> workers) {
    return !pending(workers).isEmpty();
  }

  /** Returns the workers that have not acknowledged the barrier's state (no ack, or another). */
  public List<String> pending(List<String> workers) {
    List<String> out = new ArrayList<>();
    for (String w : workers) {
      AckRow ack = ack(w);
      if (ack == null || ack.state() == null || !ack.state().equals(barrierState)) {
        out.add(w);
      }
    }
    return out;
  }

  /** Returns a member's acknowledgement, or null. */
  public AckRow ack(String member) {
    for (AckRow a : acks) {
      if (a.member().equals(member)) {
        return a;
      }
    }
    return null;
  }

  /**
   * Reads a group.
   *
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public static GroupInspection read(CuratorFramework client, String groupPath) {
    return GroupAccessException.call(groupPath, () -> load(client, groupPath));
  }

  private static GroupInspection load(CuratorFramework client, String groupPath) throws Exception {
    GroupPaths paths = new GroupPaths(groupPath);
    List<String> problems = new ArrayList<>();
    String strategy = "?";
    int partitions = 0;
    try {
      Optional<GroupConfig> config = GroupFacts.of(client, paths).config();
      if (config.isEmpty()) {
        problems.add(paths.config() + ": no group config");
      } else {
        strategy = config.get().isPartial() ? "?" : config.get().strategy();
        partitions = config.get().partitions();
      }
    } catch (GroupAccessException e) {
      throw e;
    } catch (IllegalStateException e) {
      problems.add(e.getMessage());
    }
    String barrierState = "";
    long barrierSince = 0;
    try {
      Stat stat = new Stat();
      byte[] data = client.getData().storingStatIn(stat).forPath(paths.barrier());
      barrierState = BarrierCodec.decode(data).state().wire();
      barrierSince = stat.getMtime();
    } catch (KeeperException.NoNodeException e) {
      // no handoff completed yet
    } catch (IllegalArgumentException e) {
      problems.add(paths.barrier() + ": " + e.getMessage());
    }
    List<AckRow> acks = new ArrayList<>();
    List<String> ids;
    try {
      ids = new ArrayList<>(client.getChildren().forPath(paths.acks()));
    } catch (KeeperException.NoNodeException e) {
      ids = new ArrayList<>();
    }
    ids.sort(String::compareTo);
    for (String id : ids) {
      Stat stat = new Stat();
      byte[] data;
      try {
        data = client.getData().storingStatIn(stat).forPath(paths.ack(id));
      } catch (KeeperException.NoNodeException e) {
        continue;
      }
      String state = null;
      try {
        state = AckCodec.decode(data).state().wire();
      } catch (IllegalArgumentException e) {
        // reported below
      }
      if (state == null) {
        problems.add(
            paths.ack(id)
                + ": unreadable acknowledgement "
                + new String(data == null ? new byte[0] : data, StandardCharsets.UTF_8));
      }
      acks.add(new AckRow(id, state, stat.getMtime()));
    }
    return new GroupInspection(strategy, partitions, barrierState, barrierSince, acks, problems);
  }
}
