package io.ringwork.membership;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.ring.KeyRouter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A group's fixed settings, stored once at {@code <group>/config}, and the one codec of that node:
 * {@code {"format":1,"partitions":P,"hash":"xxh3-64-top-bits"[,"strategy":S,"replicas":R
 * [,"router":N]]}}, fields in that order.
 *
 * <p>A lock service that starts before any rebalancer writes a <em>partial</em> config, with its
 * partition count and hash only (so that both queue every key in the same place); the first
 * rebalancer then adds the strategy and replicas. In a {@code tooz}-strategy group, {@code
 * partitions} is tooz's points per member, not a partition count.
 *
 * <p>The optional {@code router} ({@code "whole-key"} or {@code "up-to:C"}) names the key router,
 * so that tools route keys as the members do; it is absent from configs written before it existed
 * and for a custom router.
 *
 * @param partitions P, or tooz's points per member in a tooz-strategy group
 * @param hash the key hash, {@link #HASH}
 * @param strategy the strategy's stored name, null in a partial config
 * @param replicas the owners per partition, 0 in a partial config (or when not stored)
 * @param router the router's stored name, null when absent
 */
public record GroupConfig(
    int partitions, String hash, String strategy, int replicas, String router) {

  /** The key hash every group config names: the partitioner's. */
  public static final String HASH = "xxh3-64-top-bits";

  /** The format this version reads and writes. */
  public static final int FORMAT = 1;

  /** The stored name of the tooz strategy. */
  public static final String TOOZ = "tooz";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Checks the hash. */
  public GroupConfig {
    Objects.requireNonNull(hash, "hash");
  }

  /** The config of a group: complete, with a strategy and replicas. */
  public static GroupConfig of(String strategy, int partitions, int replicas, KeyRouter router) {
    return new GroupConfig(
        partitions, HASH, Objects.requireNonNull(strategy), replicas, routerName(router));
  }

  /** The partial config a lock service writes when it starts first: a partition count only. */
  public static GroupConfig partial(int partitions) {
    return new GroupConfig(partitions, HASH, null, 0, null);
  }

  /** Whether this is a partial config: written by a lock service, no rebalancer has joined. */
  public boolean isPartial() {
    return strategy == null;
  }

  /**
   * Whether the group uses the tooz strategy: it has rings, not partitions (its {@code partitions}
   * are points per member), and no partition owner a lock request could wait for.
   */
  public boolean isTooz() {
    return TOOZ.equals(strategy);
  }

  /** The router the stored name stands for; empty when absent or unknown. */
  public Optional<KeyRouter> keyRouter() {
    String name = router == null ? "" : router;
    if (name.equals("whole-key")) {
      return Optional.of(KeyRouter.wholeKey());
    }
    if (name.startsWith("up-to:") && name.length() == "up-to:".length() + 1) {
      return Optional.of(KeyRouter.upTo(name.charAt(name.length() - 1)));
    }
    return Optional.empty();
  }

  /** Returns the stored name of a router, or null for a custom router (which is not stored). */
  public static String routerName(KeyRouter router) {
    if (router == KeyRouter.wholeKey()) {
      return "whole-key";
    }
    if (router instanceof KeyRouter.UpTo upTo) {
      return "up-to:" + upTo.separator();
    }
    return null;
  }

  /** The stored form. */
  public byte[] toBytes() {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("partitions", partitions);
    node.put("hash", hash);
    if (strategy != null) {
      node.put("strategy", strategy);
      node.put("replicas", replicas);
    }
    if (router != null) {
      node.put("router", router);
    }
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads the stored form. Unknown fields are ignored; a field of the wrong type reads as absent.
   *
   * @throws IllegalArgumentException if it is not JSON or not of format 1
   */
  public static GroupConfig parse(byte[] data) {
    JsonNode node;
    try {
      node = JSON.readTree(data == null ? new byte[0] : data);
    } catch (Exception e) {
      node = null;
    }
    if (node == null || node.path("format").asInt() != FORMAT) {
      throw new IllegalArgumentException(
          "unreadable or of an unknown format: "
              + (data == null ? "null" : new String(data, StandardCharsets.UTF_8)));
    }
    return new GroupConfig(
        node.path("partitions").asInt(0),
        node.path("hash").asText(""),
        node.has("strategy") ? node.path("strategy").asText() : null,
        node.path("replicas").asInt(0),
        node.has("router") ? node.path("router").asText() : null);
  }

  /**
   * What differs between a stored config ({@code this}) and a member's own, one line per field in
   * the form "partitions is 8 in the group but 16 here". In a partial stored config the strategy
   * and replicas are not compared, nor (for a tooz member, whose {@code partitions} are points per
   * member) the partition count; the router only when both name one.
   */
  public List<String> differencesFrom(GroupConfig mine) {
    List<String> diff = new ArrayList<>();
    boolean partial = isPartial();
    if (!(partial && mine.isTooz())) {
      compare(diff, "partitions", partitions, mine.partitions);
    }
    compare(diff, "hash", hash, mine.hash);
    if (!partial) {
      compare(diff, "strategy", strategy, mine.strategy);
      compare(diff, "replicas", replicas, mine.replicas);
    }
    if (router != null && mine.router != null) {
      compare(diff, "router", router, mine.router);
    }
    return diff;
  }

  private static void compare(List<String> diff, String field, Object stored, Object mine) {
    if (!String.valueOf(stored).equals(String.valueOf(mine))) {
      diff.add(String.format("%s is %s in the group but %s here", field, stored, mine));
    }
  }
}
