package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.GroupPaths;
import io.ringwork.ring.KeyRouter;
import java.nio.charset.StandardCharsets;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * A group's fixed settings, stored once at {@code <group>/config}: P, the key hash, the strategy
 * and the replica count. A member whose settings differ fails at start instead of computing a
 * different table from everyone else.
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
    try {
      client.create().creatingParentsIfNeeded().forPath(path, bytes);
      return;
    } catch (KeeperException.NodeExistsException e) {
      // compare below
    }
    byte[] data = client.getData().forPath(path);
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
    StringBuilder diff = new StringBuilder();
    for (String field : new String[] {"partitions", "hash", "strategy", "replicas", "router"}) {
      boolean optional = field.equals("router") && !(stored.has(field) && mine.has(field));
      if (!optional && !stored.path(field).asText().equals(mine.path(field).asText())) {
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
