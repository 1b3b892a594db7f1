package io.ringwork.simulator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockBreak;
import io.ringwork.lock.LockInfo;
import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.ring.KeyRouter;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;

/**
 * What {@code ringwork locks} and {@code ringwork inspect} share: a group to read, and lock rows.
 */
final class LockReports {

  private LockReports() {}

  /**
   * Returns a group's node after checking that it exists.
   *
   * @throws InputException naming the option when the group is malformed or absent
   */
  static String existingGroup(
      CuratorFramework client, String connect, String namespace, String group) throws Exception {
    String groupPath;
    try {
      groupPath = GroupPaths.of(namespace, group).root();
    } catch (IllegalArgumentException e) {
      throw new InputException("--namespace/--group: " + e.getMessage());
    }
    if (client.checkExists().forPath(groupPath) == null) {
      throw new InputException(
          "--group " + group + ": no such group at " + groupPath + " on " + connect);
    }
    return groupPath;
  }

  /**
   * Returns a group's node once it exists, telling {@code err} once that it waits: {@code inspect
   * --watch} started before the group's first member. Woken by a watch on the node.
   *
   * @throws InputException naming the option when the group is malformed
   * @throws InterruptedException when interrupted (Ctrl-C) while waiting
   */
  static String awaitGroup(
      CuratorFramework client, String connect, String namespace, String group, PrintWriter err)
      throws Exception {
    String groupPath;
    try {
      groupPath = GroupPaths.of(namespace, group).root();
    } catch (IllegalArgumentException e) {
      throw new InputException("--namespace/--group: " + e.getMessage());
    }
    boolean said = false;
    while (true) {
      CountDownLatch created = new CountDownLatch(1);
      CuratorWatcher watcher = event -> created.countDown();
      if (client.checkExists().usingWatcher(watcher).forPath(groupPath) != null) {
        return groupPath;
      }
      if (!said) {
        err.println(
            "ringwork: no group at " + groupPath + " on " + connect + " yet; waiting for it");
        err.flush();
        said = true;
      }
      created.await();
    }
  }

  /**
   * Returns the router to route keys with: the one stored in the group's config, or {@code
   * --route-until C} when the group names none (or the whole key when neither is given).
   *
   * @throws InputException if {@code --route-until} contradicts the stored router
   */
  static KeyRouter router(CuratorFramework client, String groupPath, Character routeUntil)
      throws Exception {
    Optional<KeyRouter> stored;
    try {
      stored = GroupStatus.storedRouter(client, groupPath);
    } catch (IllegalArgumentException noConfig) {
      stored = Optional.empty(); // no member has started yet: nothing is stored
    }
    if (routeUntil == null) {
      return stored.orElse(KeyRouter.wholeKey());
    }
    KeyRouter given = KeyRouter.upTo(routeUntil);
    if (stored.isPresent() && !stored.get().equals(given)) {
      throw new InputException(
          "--route-until "
              + routeUntil
              + ": the group's config at "
              + groupPath
              + " routes keys "
              + describe(stored.get())
              + "; drop --route-until to use it");
    }
    return given;
  }

  private static String describe(KeyRouter router) {
    return router instanceof KeyRouter.UpTo u
        ? "up to the first '" + u.separator() + "'"
        : "on the whole key";
  }

  /**
   * Returns a started lock service that only reads (and may break, when asked to), as member {@code
   * id}.
   */
  static KeyLocks reader(
      CuratorFramework client, String namespace, String group, String id, KeyRouter router) {
    KeyLocks locks =
        KeyLocks.newBuilder()
            .client(client)
            .namespace(namespace)
            .group(group)
            .memberId(id)
            .router(router)
            .build();
    locks.start();
    return locks;
  }

  /** Adds one JSON object per lock node: member, mode, token, since, age, purpose, key, waits. */
  static void fill(ArrayNode arr, List<LockInfo> infos, long now) {
    for (LockInfo i : infos) {
      ObjectNode o = arr.addObject();
      o.put("member", i.member());
      o.put("mode", i.mode().wireName());
      o.put("token", i.token());
      o.put("since", i.since());
      o.put("ageMs", i.ageMillis(now));
      o.put("purpose", i.purpose());
      o.put("lockKey", i.key());
      o.put("subtree", i.subtree());
      if (i.waitingFor() != null) {
        o.put("waitingFor", i.waitingFor());
      }
      if (i.revokeRequestedBy() != null) {
        o.put("revokeRequestedBy", i.revokeRequestedBy());
      }
      if (i.problem() != null) {
        o.put("problem", i.problem());
      }
    }
  }

  /** The recorded breaks of {@code key} (all keys when null), newest first. */
  static List<LockBreak> breaks(KeyLocks locks, String key) {
    return locks.breaks().stream().filter(b -> key == null || b.key().equals(key)).toList();
  }

  /** Adds one JSON object per recorded break: key, by, at, and the holders it deleted. */
  static void fillBreaks(ArrayNode arr, List<LockBreak> breaks) {
    for (LockBreak b : breaks) {
      ObjectNode o = arr.addObject();
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
    }
  }

  /** One line for a break: {@code broken node-7 at ... by ops-alice: w1 (exclusive, token 12)}. */
  static String describe(LockBreak b) {
    StringBuilder sb =
        new StringBuilder("broken ")
            .append(b.key())
            .append(" at ")
            .append(Instant.ofEpochMilli(b.atMillis()).truncatedTo(ChronoUnit.SECONDS))
            .append(" by ")
            .append(b.by())
            .append(':');
    String sep = " ";
    for (LockBreak.Holder h : b.holders()) {
      sb.append(sep)
          .append(h.member())
          .append(" (")
          .append(h.mode().wireName())
          .append(", token ")
          .append(h.token())
          .append(", held since ")
          .append(Instant.ofEpochMilli(h.since()).truncatedTo(ChronoUnit.SECONDS))
          .append(')');
      sep = ", ";
    }
    return sb.toString();
  }
}
