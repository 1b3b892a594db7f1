package io.ringwork.lock;

import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a partition owner leaves behind when it lets a partition go: its watch and its yields. */
final class PartitionRelease {

  private static final Logger log = LoggerFactory.getLogger(PartitionRelease.class);

  private PartitionRelease() {}

  /**
   * Removes this member's watch of a partition it no longer holds and its yields there (they stay
   * valid evidence, but nobody needs them from us any more); true when done or nothing is left.
   */
  static boolean clear(
      CuratorFramework c,
      OwnerState state,
      int p,
      boolean watched,
      String partitionPath,
      List<String> queues,
      long session) {
    if (state.granted(p)) {
      return true; // granted again meanwhile: its scan owns the partition's watch and yields
    }
    try {
      if (watched) {
        // removeAll reaches the server (removing one watcher object only forgets it locally);
        // nothing else of this client watches locks/<p>.
        c.watchers().removeAll().ofType(Watcher.WatcherType.Any).quietly().forPath(partitionPath);
      }
      String mine = Long.toHexString(session);
      for (String queue : queues) {
        List<String> children;
        try {
          children = c.getChildren().forPath(queue);
        } catch (KeeperException.NoNodeException gone) {
          continue;
        }
        for (String child : children) {
          LockNode n = LockNode.parse(child);
          if (n != null && n.kind() == LockNode.Kind.YIELD && n.session().equals(mine)) {
            try {
              c.delete().forPath(queue + "/" + child);
            } catch (KeeperException.NoNodeException gone) {
              // released meanwhile
            }
          }
        }
      }
      return true;
    } catch (Exception e) {
      log.debug("could not clear partition {} now; again when connected: {}", p, e.toString());
      return false;
    }
  }
}
