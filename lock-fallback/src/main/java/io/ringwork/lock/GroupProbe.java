package io.ringwork.lock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.membership.GroupPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;

/**
 * What the lock service asks of its group, in one place: the stored config (its partition count,
 * and whether the group is a tooz group, whose rings have no partition owner to yield) and whether
 * the group's leader latch has a member, that is a live worker. This is the only class of the lock
 * module that reads the config's JSON or knows the latch's layout, so that a group-core API can
 * replace it here alone.
 */
final class GroupProbe {

  /** The key hash every group config names (the partitioner's). */
  static final String CONFIG_HASH = "xxh3-64-top-bits";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CREATE_ATTEMPTS = 5;

  private final CuratorFramework client;
  private final GroupPaths paths;

  GroupProbe(CuratorFramework client, GroupPaths paths) {
    this.client = client;
    this.paths = paths;
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
   *     configured}, or keeps being created and deleted
   * @throws KeeperException if ZooKeeper fails
   * @throws InterruptedException if interrupted
   */
  Facts readOrCreate(int configured, int defaultPartitions)
      throws KeeperException, InterruptedException {
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
  private Facts read(int configured, int defaultPartitions)
      throws KeeperException, InterruptedException {
    byte[] data;
    try {
      data = client.getData().forPath(paths.config());
    } catch (KeeperException.NoNodeException e) {
      return null;
    } catch (KeeperException | InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw unreadable(e);
    }
    JsonNode config;
    try {
      config = JSON.readTree(data);
    } catch (IOException e) {
      throw unreadable(e);
    }
    if ("tooz".equals(config.path("strategy").asText())) {
      // Tooz groups have rings, not partitions (their "partitions" are points per member), and
      // no partition owner to yield: locks queue by this service's own partitioning.
      return new Facts(configured > 0 ? configured : defaultPartitions, false);
    }
    int stored = config.path("partitions").asInt(-1);
    if (stored <= 0) {
      throw new IllegalStateException(
          "group config at " + paths.config() + " has no partition count: " + config);
    }
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
  private boolean createConfig(int partitions) throws KeeperException, InterruptedException {
    String config =
        "{\"format\":1,\"partitions\":" + partitions + ",\"hash\":\"" + CONFIG_HASH + "\"}";
    try {
      client
          .create()
          .creatingParentsIfNeeded()
          .forPath(paths.config(), config.getBytes(StandardCharsets.UTF_8));
      return true;
    } catch (KeeperException.NodeExistsException e) {
      return false;
    } catch (KeeperException | InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw unreadable(e);
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
            .multi(
                List.of(
                    Op.getChildren(LockCore.fix(client, queue)),
                    Op.getChildren(LockCore.fix(client, paths.leader()))));
    return new Listing(children(results.get(0)), !children(results.get(1)).isEmpty());
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

  /** Returns whether the group's leader latch has a member (a live worker). */
  boolean workersPresent() {
    try {
      return !client.getChildren().forPath(paths.leader()).isEmpty();
    } catch (KeeperException.NoNodeException e) {
      return false;
    } catch (Exception e) {
      throw new IllegalStateException("could not list " + paths.leader() + ": " + e, e);
    }
  }
}
