package io.ringwork.lock;

import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.GroupConfig;
import io.ringwork.membership.GroupFacts;
import io.ringwork.membership.GroupPaths;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;

/**
 * What the lock service asks of its group, in one place: the stored config (its partition count,
 * and whether the group is a tooz group, whose rings have no partition owner to yield) and whether
 * the group has a live worker. It asks the group core ({@link GroupFacts}, {@link GroupConfig}):
 * the lock module reads no config JSON and knows nothing of the leader latch's layout.
 */
final class GroupProbe {

  private static final int CREATE_ATTEMPTS = 5;

  private final CuratorFramework client;
  private final GroupPaths paths;
  private final GroupFacts group;

  GroupProbe(CuratorFramework client, GroupPaths paths) {
    this.client = client;
    this.paths = paths;
    this.group = GroupFacts.of(client, paths);
  }

  /**
   * What the group's config says for the lock service.
   *
   * @param partitions the partition count to queue keys by
   * @param ownersYield whether partition owners yield keys (false in a tooz group)
   */
  record Facts(int partitions, boolean ownersYield) {}

  /**
   * Reads the group config, creating it with {@code configured} partitions ({@code
   * defaultPartitions} when not positive) when there is none.
   *
   * @throws IllegalStateException if the config has no partition count, or another than {@code
   *     configured}, or keeps being created and deleted (also when ZooKeeper cannot be read or
   *     written, naming the path)
   */
  Facts readOrCreate(int configured, int defaultPartitions) {
    for (int attempt = 0; ; attempt++) {
      Facts facts = read(configured, defaultPartitions);
      if (facts != null) {
        return facts;
      }
      int partitions = configured > 0 ? configured : defaultPartitions;
      if (createConfig(partitions)) {
        return new Facts(partitions, true);
      }
      if (attempt >= CREATE_ATTEMPTS) {
        // another service created it first, then it went: take its count or fail
        throw new IllegalStateException(
            "group config at " + paths.config() + " keeps being created and deleted");
      }
    }
  }

  /** The stored config's facts, or null when there is none. */
  private Facts read(int configured, int defaultPartitions) {
    Optional<GroupConfig> found;
    try {
      found = group.config();
    } catch (GroupAccessException e) {
      throw unreadable(e.getCause() instanceof Exception c ? c : e);
    }
    if (found.isEmpty()) {
      return null;
    }
    GroupConfig config = found.get();
    if (config.isTooz()) {
      // Tooz groups have rings, not partitions (their "partitions" are points per member), and
      // no partition owner to yield: locks queue by this service's own partitioning.
      return new Facts(configured > 0 ? configured : defaultPartitions, false);
    }
    int partitions = config.partitions();
    if (partitions <= 0) {
      throw new IllegalStateException(
          "group config at " + paths.config() + " has no partition count: " + config);
    }
    int stored = partitions;
    if (configured > 0 && configured != stored) {
      throw new IllegalStateException(
          "partitions is "
              + stored
              + " in the group config at "
              + paths.config()
              + " but "
              + configured
              + " for this lock service");
    }
    return new Facts(stored, true);
  }

  /**
   * Creates the group config with this service's partition count, so that a rebalancer or another
   * lock service starting later queues every key where this one does (or fails, naming both
   * counts). A create is a compare-and-set: when it loses, the caller reads the winner's config.
   * The strategy is left for the first rebalancer to add.
   *
   * @return whether this call created it
   */
  private boolean createConfig(int partitions) {
    try {
      return group.createConfig(GroupConfig.partial(partitions));
    } catch (GroupAccessException e) {
      throw unreadable(e.getCause() instanceof Exception c ? c : e);
    }
  }

  private IllegalStateException unreadable(Exception e) {
    return new IllegalStateException(
        "could not read the group config at " + paths.config() + ": " + e, e);
  }

  /**
   * A queue's children, and whether the group has a live worker.
   *
   * @param children the queue's children (empty when it is absent)
   * @param workers whether the leader latch has a member
   */
  record Listing(List<String> children, boolean workers) {}

  /**
   * Lists a queue and the leader latch in one round trip (a multi of reads).
   *
   * @throws KeeperException if the multi fails (the caller reads one by one, with retries)
   */
  Listing childrenAndWorkers(String queue) throws KeeperException, InterruptedException {
    List<OpResult> results =
        LockCore.zk(client)
            .multi(List.of(Op.getChildren(LockCore.fix(client, queue)), group.liveWorkersRead()));
    return new Listing(children(results.get(0)), GroupFacts.hasLiveWorkers(results.get(1)));
  }

  private static List<String> children(OpResult r) {
    if (r instanceof OpResult.GetChildrenResult c) {
      return c.getChildren();
    }
    if (r instanceof OpResult.ErrorResult err
        && err.getErr() == KeeperException.Code.NONODE.intValue()) {
      return List.of();
    }
    throw new IllegalStateException("unexpected multi-read result " + r);
  }

  /** Returns whether the group has a live worker. */
  boolean workersPresent() {
    return group.hasLiveWorkers();
  }
}
