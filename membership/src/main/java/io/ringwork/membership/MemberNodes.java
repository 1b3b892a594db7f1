package io.ringwork.membership;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEventType;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A copy of a group's member nodes kept at the least cost ZooKeeper allows: one persistent
 * recursive watch on the members node, one read of a node that was created or changed, nothing for
 * one that was deleted, and a full reload (one list and one multi-read) at start and after every
 * reconnection. A join costs each member one notification and one read (Curator's CuratorCache
 * spends about four packets on it).
 */
final class MemberNodes {

  private static final Logger log = LoggerFactory.getLogger(MemberNodes.class);
  private static final int MAX_READS_PER_MULTI = 256;

  private final CuratorFramework client;
  private final String parent;
  private final Runnable changed;
  private final Map<String, ChildData> nodes = new ConcurrentHashMap<>();
  private PersistentWatcher watcher;
  // Paths deleted since the last reload listed the members (ZooKeeper's event thread only).
  private final Set<String> deletedDuringReload = new HashSet<>();
  private volatile boolean closed;
  // What changed since the reader last asked (changes()): the paths put or removed, or everything
  // after a reload. Written before `changed` runs, so a reader woken by it sees the change.
  private final Set<String> dirty = ConcurrentHashMap.newKeySet();
  private volatile boolean reloaded = true;

  /** {@code changed} runs (on ZooKeeper's event thread) after every change to the copy. */
  MemberNodes(CuratorFramework client, String parent, Runnable changed) {
    this.client = client;
    this.parent = parent;
    this.changed = changed;
  }

  void start() {
    watcher = new PersistentWatcher(client, parent, true);
    watcher.getListenable().addListener(this::process);
    // Reload once the watch is in place on the server: at start and after every reconnection.
    // A list sent before the watch is set again (in a new session the server has none) could miss
    // a node created, or keep one deleted, between the two; a list after it cannot.
    watcher.getResetListenable().addListener(this::reload);
    watcher.start();
    reload();
  }

  /** The member nodes as last seen. */
  Collection<ChildData> nodes() {
    return nodes.values();
  }

  /** A node as last seen, or null. */
  ChildData node(String path) {
    return nodes.get(path);
  }

  /**
   * What changed since the last call: every node ({@code all}, after a reload) or the paths put or
   * removed. Taken before the reader reads the nodes, so nothing that changes meanwhile is missed
   * (it is reported again by the next call).
   */
  record Changes(boolean all, Set<String> paths) {}

  Changes changes() {
    if (reloaded) {
      reloaded = false;
      dirty.clear();
      return new Changes(true, Set.of());
    }
    Set<String> paths = new HashSet<>();
    for (java.util.Iterator<String> it = dirty.iterator(); it.hasNext(); ) {
      paths.add(it.next());
      it.remove();
    }
    return new Changes(false, paths);
  }

  /**
   * Reads every member node again: after a reconnection, changes may have gone unseen. Asynchronous
   * on purpose: its replies are handled on ZooKeeper's event thread in the server's order with the
   * watch events, so a node deleted after the read is never brought back by it.
   */
  void reload() {
    if (closed) {
      return;
    }
    try {
      client
          .getChildren()
          .inBackground(
              (c, e) -> {
                if (closed) {
                  return;
                }
                if (e.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                  // No members node: every node seen before this reply is gone (one created after
                  // it comes with its own event, handled after this reply).
                  merge(List.of(), Map.of(), Long.MAX_VALUE);
                } else if (e.getResultCode() == KeeperException.Code.OK.intValue()) {
                  deletedDuringReload.clear();
                  readAll(e.getChildren(), e.getStat().getPzxid());
                } else {
                  log.debug("listing {} failed ({}); the next reconnection reloads", parent, e);
                }
              })
          .forPath(parent);
    } catch (Exception e) {
      log.debug("could not list {}", parent, e);
    }
  }

  private void readAll(List<String> children, long listedAt) {
    List<Op> ops = new ArrayList<>();
    for (String child : children) {
      ops.add(Op.getData(parent + "/" + child));
    }
    if (ops.isEmpty()) {
      merge(List.of(), Map.of(), listedAt);
      return;
    }
    Map<String, ChildData> fresh = new HashMap<>();
    int batches = (ops.size() + MAX_READS_PER_MULTI - 1) / MAX_READS_PER_MULTI;
    int[] left = {batches};
    boolean[] failed = {false};
    try {
      ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
      for (int from = 0; from < ops.size(); from += MAX_READS_PER_MULTI) {
        List<Op> batch = ops.subList(from, Math.min(ops.size(), from + MAX_READS_PER_MULTI));
        zk.multi(
            batch,
            (rc, path, ctx, results) -> {
              if (results == null) {
                failed[0] = true; // connection lost: the reconnection reloads again
              } else {
                for (int i = 0; i < results.size(); i++) {
                  if (results.get(i) instanceof OpResult.GetDataResult got) {
                    String node = batch.get(i).getPath();
                    fresh.put(node, new ChildData(node, got.getStat(), got.getData()));
                  }
                }
              }
              // Only a whole reload may remove nodes: a failed batch would shrink the view.
              if (--left[0] == 0 && !closed && !failed[0]) {
                merge(children, fresh, listedAt);
              }
            },
            null);
      }
    } catch (Exception e) {
      log.debug("could not read the members under {}", parent, e);
    }
  }

  /** Takes a reload's result; runs on ZooKeeper's event thread. */
  private void merge(List<String> children, Map<String, ChildData> fresh, long listedAt) {
    // A node created after the list was read (its own event may already have been handled) stays.
    nodes
        .entrySet()
        .removeIf(
            e -> !fresh.containsKey(e.getKey()) && e.getValue().getStat().getCzxid() <= listedAt);
    // A node deleted while the reload's batches were in flight must not come back from them.
    fresh.forEach(
        (path, data) -> {
          if (!deletedDuringReload.contains(path)) {
            putIfNewer(path, data);
          }
        });
    deletedDuringReload.clear();
    reloaded = true;
    changed.run();
  }

  private void process(WatchedEvent event) {
    String path = event.getPath();
    if (closed || path == null || !path.startsWith(parent + "/")) {
      return;
    }
    if (path.indexOf('/', parent.length() + 1) >= 0) {
      return; // below a member node: not ours
    }
    switch (event.getType()) {
      case NodeDeleted -> {
        nodes.remove(path);
        deletedDuringReload.add(path);
        dirty.add(path);
        changed.run();
      }
      case NodeCreated, NodeDataChanged -> read(path);
      default -> {}
    }
  }

  private void read(String path) {
    try {
      client
          .getData()
          .inBackground(
              (c, e) -> {
                if (e.getType() == CuratorEventType.GET_DATA
                    && e.getResultCode() == KeeperException.Code.OK.intValue()
                    && !closed) {
                  putIfNewer(path, new ChildData(path, e.getStat(), e.getData()));
                  dirty.add(path);
                  changed.run();
                }
              })
          .forPath(path);
    } catch (Exception e) {
      log.debug("could not read {}; the next reload will", path, e);
    }
  }

  /** Keeps the newer of two copies of a node: replies may race a reload. */
  private void putIfNewer(String path, ChildData data) {
    nodes.merge(
        path,
        data,
        (old, now) ->
            now.getStat().getCzxid() > old.getStat().getCzxid()
                    || (now.getStat().getCzxid() == old.getStat().getCzxid()
                        && now.getStat().getMzxid() >= old.getStat().getMzxid())
                ? now
                : old);
  }

  void close() {
    closed = true;
    if (watcher != null) {
      watcher.close();
    }
    nodes.clear();
  }
}
