package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.GroupPaths;
import io.ringwork.ring.KeyRouter;
import java.nio.charset.StandardCharsets;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * A group's fixed settings, stored once at {@code <group>/config}: P, the key hash, the strategy
 * and the replica count. A member whose settings differ fails at start instead of computing a
 * different table from everyone else.
 *
 * <p>A lock service that starts before any rebalancer creates the config with its partition count
 * only (so that both queue every key in the same place); the first rebalancer then adds the
 * strategy and replicas by compare-and-set on the node's version, after checking the count.
 *
 * <p>The optional {@code router} field ({@code "whole-key"} or {@code "up-to:C"}) names the key
 * router, so that tools route keys as the members do; it is absent from configs written before it
 * existed and for a custom router, and only compared when both sides name one.
 */
final class GroupConfig {

  static final String HASH = "xxh3-64-top-bits";
  private static final ObjectMapper JSON = new ObjectMapper();

  private GroupConfig() {}

  /**
   * Creates the config node, or checks that the stored one matches.
   *
   * @throws IllegalStateException naming each difference when it does not match, or when the stored
   *     config is unreadable
   */
  static void ensure(
      CuratorFramework client,
      GroupPaths paths,
      String strategy,
      int partitions,
      int replicas,
      KeyRouter router)
      throws Exception {
    String path = paths.config();
    ObjectNode mine = JSON.createObjectNode();
    mine.put("format", 1);
    mine.put("partitions", partitions);
    mine.put("hash", HASH);
    mine.put("strategy", strategy);
    mine.put("replicas", replicas);
    String routerName = routerName(router);
    if (routerName != null) {
      mine.put("router", routerName);
    }
    byte[] bytes = mine.toString().getBytes(StandardCharsets.UTF_8);
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
      if (!compare(path, data, mine)) {
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
    throw new IllegalStateException("group config at " + path + " kept changing; try again");
  }

  /**
   * Compares a stored config with this member's; returns true when it is complete and matches,
   * false when it matches but has no strategy yet (written by a lock service).
   *
   * @throws IllegalStateException naming each difference
   */
  private static boolean compare(String path, byte[] data, ObjectNode mine) {
    JsonNode stored;
    try {
      stored = JSON.readTree(data);
    } catch (Exception e) {
      stored = null;
    }
    if (stored == null || stored.path("format").asInt() != 1) {
      throw new IllegalStateException(
          "group config at "
              + path
              + " is unreadable or of an unknown format: "
              + new String(data, StandardCharsets.UTF_8));
    }
    boolean partial = !stored.has("strategy");
    StringBuilder diff = new StringBuilder();
    for (String field : new String[] {"partitions", "hash", "strategy", "replicas", "router"}) {
      if (partial && (field.equals("strategy") || field.equals("replicas"))) {
        continue;
      }
      if (partial && field.equals("partitions") && "tooz".equals(mine.path("strategy").asText())) {
        // tooz's "partitions" are points per member; tooz lock services queue by their own count
        continue;
      }
      if (field.equals("router") && !(stored.has(field) && mine.has(field))) {
        continue; // optional: absent from older configs and for a custom router
      }
      if (!stored.path(field).asText().equals(mine.path(field).asText())) {
        diff.append(
            String.format(
                "; %s is %s in the group but %s here",
                field, stored.path(field).asText(), mine.path(field).asText()));
      }
    }
    if (diff.length() > 0) {
      throw new IllegalStateException(
          "this member's settings do not match group config at " + path + diff);
    }
    return !partial;
  }

  /** Returns the stored name of a router, or null for a custom router (which is not stored). */
  static String routerName(KeyRouter router) {
    if (router == KeyRouter.wholeKey()) {
      return "whole-key";
    }
    if (router instanceof KeyRouter.UpTo upTo) {
      return "up-to:" + upTo.separator();
    }
    return null;
  }

  /** Returns the router a stored name stands for, or null for an absent or unknown name. */
  static KeyRouter router(JsonNode config) {
    String name = config.path("router").asText("");
    if (name.equals("whole-key")) {
      return KeyRouter.wholeKey();
    }
    if (name.startsWith("up-to:") && name.length() == "up-to:".length() + 1) {
      return KeyRouter.upTo(name.charAt(name.length() - 1));
    }
    return null;
  }
}
