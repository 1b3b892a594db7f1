package io.ringwork.simulator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockInfo;
import io.ringwork.membership.GroupPaths;
import io.ringwork.ring.KeyRouter;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;

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

  /** Returns a started lock service that only reads (and may break, when asked to). */
  static KeyLocks reader(
      CuratorFramework client, String namespace, String group, String role, KeyRouter router) {
    KeyLocks locks =
        KeyLocks.newBuilder()
            .client(client)
            .namespace(namespace)
            .group(group)
            .memberId("ringwork-" + role + "-" + ProcessHandle.current().pid())
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
}
