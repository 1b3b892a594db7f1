package io.ringwork.lock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.GroupPaths;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Storage and wire format of {@link LockBreak} records: persistent sequential nodes {@code b-N}
 * under {@link GroupPaths#lockBreaks()}, JSON with {@code "format": 1}. Writing one trims the
 * records beyond the newest {@link LockBreak#KEPT} and those older than {@link
 * LockBreak#MAX_AGE_MILLIS}, so the list stays bounded without a sweeper.
 */
final class LockBreaks {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PREFIX = "b-";

  private LockBreaks() {}

  /** Records a break, then trims old records. */
  static void record(CuratorFramework client, GroupPaths paths, LockBreak b) throws Exception {
    client
        .create()
        .creatingParentContainersIfNeeded()
        .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
        .forPath(paths.lockBreaks() + "/" + PREFIX, encode(b));
    List<String> names = new ArrayList<>(client.getChildren().forPath(paths.lockBreaks()));
    names.sort(Comparator.comparing(LockBreaks::sequence).reversed());
    long now = System.currentTimeMillis();
    for (int i = 0; i < names.size(); i++) {
      String path = paths.lockBreaks() + "/" + names.get(i);
      try {
        boolean old = i >= LockBreak.KEPT;
        if (!old) {
          Stat stat = client.checkExists().forPath(path);
          old = stat != null && now - stat.getCtime() > LockBreak.MAX_AGE_MILLIS;
        }
        if (old) {
          client.delete().forPath(path);
        }
      } catch (KeeperException.NoNodeException e) {
        // trimmed by another breaker meanwhile
      }
    }
  }

  /** Reads the records, newest first; unreadable ones are skipped. */
  static List<LockBreak> read(CuratorFramework client, GroupPaths paths) throws Exception {
    List<String> names;
    try {
      names = new ArrayList<>(client.getChildren().forPath(paths.lockBreaks()));
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
    names.sort(Comparator.comparing(LockBreaks::sequence).reversed());
    List<LockBreak> out = new ArrayList<>();
    for (String name : names) {
      try {
        out.add(decode(client.getData().forPath(paths.lockBreaks() + "/" + name)));
      } catch (KeeperException.NoNodeException e) {
        // trimmed meanwhile
      } catch (RuntimeException | java.io.IOException e) {
        // not ours, or from a later format: left out
      }
    }
    return out;
  }

  private static long sequence(String name) {
    try {
      return Long.parseLong(name.substring(name.length() - 10));
    } catch (RuntimeException e) {
      return -1;
    }
  }

  static byte[] encode(LockBreak b) {
    ObjectNode o = JSON.createObjectNode();
    o.put("format", 1);
    o.put("key", b.key());
    o.put("by", b.by());
    o.put("at", b.atMillis());
    ArrayNode holders = o.putArray("holders");
    for (LockBreak.Holder h : b.holders()) {
      holders
          .addObject()
          .put("member", h.member())
          .put("mode", h.mode().wireName())
          .put("token", h.token())
          .put("since", h.since())
          .put("purpose", h.purpose());
    }
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  static LockBreak decode(byte[] data) throws java.io.IOException {
    JsonNode o = JSON.readTree(data);
    if (o == null || o.path("format").asInt() != 1) {
      throw new IllegalArgumentException("not a lock break record of format 1");
    }
    List<LockBreak.Holder> holders = new ArrayList<>();
    for (JsonNode h : o.path("holders")) {
      holders.add(
          new LockBreak.Holder(
              h.path("member").asText(),
              LockMode.parse(h.path("mode").asText()),
              h.path("token").asLong(),
              h.path("since").asLong(),
              h.path("purpose").asText()));
    }
    return new LockBreak(
        o.path("key").asText(), o.path("by").asText(), o.path("at").asLong(), holders);
  }
}
