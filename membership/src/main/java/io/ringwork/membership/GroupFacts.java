package io.ringwork.membership;

import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;

/**
 * What another module may ask of a group without knowing its layout: its stored config, whether it
 * is a tooz-strategy group, whether it has live workers. The layout stays this module's: the config
 * is read with {@link GroupConfig}'s codec, and live workers are the participants of the workers'
 * leader election ({@link Membership} enters every worker, and only workers, in it).
 */
public final class GroupFacts {

  private final CuratorFramework client;
  private final GroupPaths paths;

  private GroupFacts(CuratorFramework client, GroupPaths paths) {
    this.client = client;
    this.paths = paths;
  }

  /** The facts of the group at {@code paths}, read through {@code client}. */
  public static GroupFacts of(CuratorFramework client, GroupPaths paths) {
    return new GroupFacts(client, paths);
  }

  /**
   * Reads the stored config; empty when the group has none yet.
   *
   * @throws IllegalStateException if it is unreadable, naming the path
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public Optional<GroupConfig> config() {
    byte[] data;
    try {
      data = client.getData().forPath(paths.config());
    } catch (KeeperException.NoNodeException e) {
      return Optional.empty();
    } catch (Exception e) {
      throw GroupAccessException.of(paths.config(), e);
    }
    try {
      return Optional.of(GroupConfig.parse(data));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "group config at " + paths.config() + " is " + e.getMessage());
    }
  }

  /**
   * Whether the group's stored strategy is tooz (rings, not partitions; no partition owner to
   * yield); false when it has no config, or a partial one that no rebalancer has completed.
   *
   * @throws IllegalStateException if the config is unreadable
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public boolean isTooz() {
    return config().map(GroupConfig::isTooz).orElse(false);
  }

  /**
   * Whether the group has a live worker now: a participant of the leader latch. A draining worker
   * still counts (it owns partitions until its handoff completes), and a member that left for a
   * restart and is within its restart grace does not (it has no session that could hold a
   * partition). That is the question a lock service asks before it waits for an owner's yield.
   *
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public boolean hasLiveWorkers() {
    try {
      return !client.getChildren().forPath(paths.leader()).isEmpty();
    } catch (KeeperException.NoNodeException e) {
      return false;
    } catch (Exception e) {
      throw GroupAccessException.of(paths.leader(), e);
    }
  }

  /**
   * The read {@link #hasLiveWorkers()} makes, as an operation for a multi-read on the client's
   * ZooKeeper handle (its path carries the client's namespace): read with others in one multi, it
   * answers for the same point in ZooKeeper's order as they do. {@link #hasLiveWorkers(OpResult)}
   * reads its result.
   */
  public Op liveWorkersRead() {
    return Op.getChildren(ZKPaths.fixForNamespace(client.getNamespace(), paths.leader()));
  }

  /**
   * What the result of {@link #liveWorkersRead()} says.
   *
   * @throws IllegalStateException if it is neither a listing nor "no node"
   */
  public static boolean hasLiveWorkers(OpResult result) {
    if (result instanceof OpResult.GetChildrenResult c) {
      return !c.getChildren().isEmpty();
    }
    if (result instanceof OpResult.ErrorResult err
        && err.getErr() == KeeperException.Code.NONODE.intValue()) {
      return false;
    }
    throw new IllegalStateException("unexpected multi-read result " + result);
  }

  /**
   * Creates the config, or checks that the stored one matches {@code mine}; completes a partial
   * config (a lock service's) that matches by compare-and-set on its version.
   *
   * @throws IllegalStateException naming each difference when the stored config does not match,
   *     when it is unreadable, or when it keeps changing
   * @throws GroupAccessException if ZooKeeper cannot be read or written
   */
  public void ensureConfig(GroupConfig mine) {
    String path = paths.config();
    byte[] bytes = mine.toBytes();
    try {
      for (int attempt = 0; attempt < 10; attempt++) {
        try {
          client.create().creatingParentsIfNeeded().forPath(path, bytes);
          return;
        } catch (KeeperException.NodeExistsException e) {
          // compare below
        }
        Stat stat = new Stat();
        byte[] data;
        try {
          data = client.getData().storingStatIn(stat).forPath(path);
        } catch (KeeperException.NoNodeException e) {
          continue; // deleted by hand meanwhile: create it
        }
        GroupConfig stored;
        try {
          stored = GroupConfig.parse(data);
        } catch (IllegalArgumentException e) {
          throw new IllegalStateException("group config at " + path + " is " + e.getMessage());
        }
        List<String> diff = stored.differencesFrom(mine);
        if (!diff.isEmpty()) {
          throw new IllegalStateException(
              "this member's settings do not match group config at "
                  + path
                  + "; "
                  + String.join("; ", diff));
        }
        if (stored.isPartial()) {
          try {
            // Started by a lock service: same count and hash, now complete it.
            client.setData().withVersion(stat.getVersion()).forPath(path, bytes);
            return;
          } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            continue; // changed meanwhile: read it again
          }
        }
        return;
      }
    } catch (IllegalStateException e) {
      throw e;
    } catch (Exception e) {
      throw GroupAccessException.of(path, e);
    }
    throw new IllegalStateException("group config at " + path + " kept changing; try again");
  }

  /**
   * Creates the config if the group has none; a create is a compare-and-set, so when this returns
   * false another process wrote it first (read it with {@link #config()}).
   *
   * @throws GroupAccessException if ZooKeeper cannot be written
   */
  public boolean createConfig(GroupConfig config) {
    try {
      client.create().creatingParentsIfNeeded().forPath(paths.config(), config.toBytes());
      return true;
    } catch (KeeperException.NodeExistsException e) {
      return false;
    } catch (Exception e) {
      throw GroupAccessException.of(paths.config(), e);
    }
  }
}
