package io.ringwork.simulator.cli;

import io.ringwork.lock.KeyLocks;
import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.ring.KeyRouter;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;

/**
 * What the commands that read a live group share: the group's node, its key router and a lock
 * service that reads.
 */
public final class LiveGroups {

  private LiveGroups() {}

  /**
   * Returns a group's node after checking that it exists.
   *
   * @throws InputException naming the option when the group is malformed or absent
   */
  public static String existingGroup(
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
  public static String awaitGroup(
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
  public static KeyRouter router(CuratorFramework client, String groupPath, Character routeUntil)
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
  public static KeyLocks reader(
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
}
