package io.ringwork.lock;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.Membership;
import io.ringwork.ring.KeyRouter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner side's view of its partitions' lock queues, on the lock service's event thread: one
 * persistent recursive watch per granted partition, a listing before the fast path opens, and for
 * each foreign request its key marked contested and a yield (after the guards in flight, through
 * {@link YieldDrains}). {@link PartitionGuards} has the protocol and its argument.
 */
final class OwnerWatch implements YieldDrains.Requests {

  private static final Logger log = LoggerFactory.getLogger(OwnerWatch.class);

  private final KeyLockCore locks;
  private final CuratorFramework client;
  private final GroupPaths paths;
  private final OwnerState state;
  private final LockMetrics metrics;
  private final YieldDrains drains;
  private volatile Runnable onReady = () -> {};

  // Confined to the event thread.
  private final Set<Integer> watches = new HashSet<>();
  private final Map<Integer, Map<String, List<LockNode>>> requests = new HashMap<>();

  OwnerWatch(
      KeyLockCore locks,
      CuratorFramework client,
      GroupPaths paths,
      OwnerState state,
      LockMetrics metrics,
      FastPathGate gate,
      KeyRouter router) {
    this.locks = locks;
    this.client = client;
    this.paths = paths;
    this.state = state;
    this.metrics = metrics;
    this.drains = new YieldDrains(gate, router, state, locks, this);
  }

  /** Returns whether every granted partition's locks have been listed (its fast path decided). */
  boolean ready() {
    return state.pendingScans.get() == 0;
  }

  void onReady(Runnable listener) {
    this.onReady = listener;
  }

  /** Queues one pass over the yields waiting for fast guards (the gate's wake-up). */
  void wakeDrains() {
    drains.wake();
  }

  /**
   * Acts on a grant update, on the event thread: forgets the watches of an ended session, stops
   * watching partitions no longer granted and lists the gained ones (counted as pending by {@link
   * OwnerState#update}). False when closed.
   */
  boolean apply(OwnerState.Change change) {
    List<Integer> gained = change.gained();
    boolean queued =
        locks.submit(
            () -> {
              if (change.newSession()) {
                // Watches were registered in the old session and died with it: register anew.
                watches.clear();
              }
              for (int p : change.dropped()) {
                unwatch(p);
              }
              for (int p : gained) {
                try {
                  scan(p);
                } finally {
                  scanned();
                }
              }
            });
    if (!queued) {
      state.pendingScans.addAndGet(-gained.size()); // closed: nothing will scan
    }
    return queued;
  }

  private void scanned() {
    if (state.pendingScans.decrementAndGet() == 0) {
      locks.runGuarded(onReady, "onReady", "");
    }
  }

  /** Stops watching every partition (the grants are withdrawn already). */
  void close() {
    drains.wake();
    locks.submit(
        () -> {
          for (int p : List.copyOf(watches)) {
            unwatch(p);
          }
        });
  }

  private void scan(int p) {
    if (!state.closeForScan(p)) {
      return;
    }
    String path = paths.lockPartition(p);
    try {
      if (!watches.contains(p)) {
        // A persistent watch may be set on a node that does not exist yet. Set on ZooKeeper's
        // handle, not through Curator, whose events drop the zxid that a deletion is answered with.
        locks.watchTree(path, (changed, type, zxid) -> changed(p, changed, type, zxid));
        watches.add(p);
      }
      // Keep what we knew: a queue whose locks went while we were not listening must still give
      // its routing key a resume token.
      Map<String, List<LockNode>> previous = requests.get(p);
      Map<String, List<LockNode>> found =
          previous == null ? new HashMap<>() : new HashMap<>(previous);
      requests.put(p, found);
      List<String> queues;
      Stat partitionStat = new Stat();
      try {
        queues = client.getChildren().storingStatIn(partitionStat).forPath(path);
      } catch (KeeperException.NoNodeException e) {
        queues = List.of();
      }
      for (String known : List.copyOf(found.keySet())) {
        if (!queues.contains(ZKPaths.getNodeFromPath(known))) {
          // Reaped: the partition listing's pzxid is after its deletion, before any new request.
          found.remove(known);
          addResume(p, routingKeyOf(known), partitionStat.getPzxid());
        }
      }
      Map<String, LockQueue> listed = new HashMap<>();
      for (String queue : queues) {
        String qp = path + "/" + queue;
        LockQueue q = listQueue(p, qp);
        if (q != null && !q.requests().isEmpty()) {
          listed.put(qp, q);
        }
      }
      publish(p); // the whole partition at once, before any fast path
      for (Map.Entry<String, LockQueue> e : listed.entrySet()) {
        react(p, e.getKey(), e.getValue());
      }
      state.openAfterScan(p, () -> requests.get(p) == found);
    } catch (Exception e) {
      log.warn(
          "could not list the locks of partition {} for {}; retrying: {}",
          p,
          locks.memberId(),
          e.toString());
      state.pendingScans.incrementAndGet();
      try {
        locks.schedule(
            () -> {
              try {
                scan(p);
              } finally {
                scanned();
              }
            },
            200);
      } catch (RejectedExecutionException closed) {
        state.pendingScans.decrementAndGet();
      }
    }
  }

  /**
   * Acts on one event under a watched partition ({@code path} without the client's namespace). A
   * lock request's creation is answered from the event alone (its name says its key and mode;
   * persistent watches deliver every change, in order, for as long as the session lasts, and a new
   * session lists everything again): recorded, published as contested, and yielded to once the
   * guards in flight have closed, in one write. A request's deletion is forgotten from the event
   * too: its zxid becomes its routing key's resume token (after the deletion, and below any request
   * not seen yet, since events come in zxid order), and our yield for it is deleted in the
   * background. Every other change (a rewritten mode, an upgrade, another owner's yield, a queue
   * created or reaped, an event without a zxid) lists the queue.
   */
  private void changed(int p, String path, Watcher.Event.EventType type, long zxid) {
    if (!watches.contains(p) || path == null) {
      return;
    }
    String base = path;
    String partitionPath = paths.lockPartition(p);
    if (!base.startsWith(partitionPath + "/")) {
      return;
    }
    String rest = base.substring(partitionPath.length() + 1);
    int slash = rest.indexOf('/');
    String queue = partitionPath + "/" + (slash < 0 ? rest : rest.substring(0, slash));
    if (slash >= 0) {
      String child = rest.substring(slash + 1);
      if (child.startsWith("y-") && child.endsWith("-" + Long.toHexString(currentSession()))) {
        return; // our own yield, created or deleted: nothing new to see
      }
      if (type == Watcher.Event.EventType.NodeCreated && answerCreated(p, queue, child)) {
        return;
      }
      if (type == Watcher.Event.EventType.NodeDeleted && forgetDeleted(p, queue, child, zxid)) {
        if (!drains.isEmpty()) {
          drains.advanceAll(); // a yield may wait to answer the request that went
        }
        return;
      }
    }
    try {
      scanQueue(p, queue);
    } catch (Exception e) {
      log.warn("could not list lock queue {}; retrying: {}", queue, e.toString());
      locks.schedule(() -> changed(p, path, null, 0), 200);
    }
    if (!drains.isEmpty()) {
      drains.advanceAll(); // a request may have gone that a yield waits to answer
    }
  }

  /**
   * Forgets a request whose deletion an event reported, without listing its queue: the deletion's
   * zxid is after the request's token and before any request this member has not seen, so it is a
   * resume token of the routing key as a listing's pzxid would be. False when the child is not a
   * request or the event has no zxid (the caller lists the queue).
   */
  private boolean forgetDeleted(int p, String queue, String child, long zxid) {
    LockNode n = child.indexOf('/') < 0 ? LockNode.parse(child) : null;
    if (n == null || n.kind() != LockNode.Kind.REQUEST || zxid <= 0) {
      return false;
    }
    Map<String, List<LockNode>> byQueue = requests.get(p);
    if (byQueue == null) {
      return true; // not watched any more
    }
    List<LockNode> known = byQueue.get(queue);
    if (known == null || !known.contains(n)) {
      return true; // never seen: yielded by an earlier owner, below our grant's token
    }
    List<LockNode> left = new ArrayList<>(known);
    left.remove(n);
    if (left.isEmpty()) {
      byQueue.remove(queue);
    } else {
      byQueue.put(queue, List.copyOf(left));
    }
    addResume(p, routingKeyOf(queue), zxid); // resume tokens before the key is free again
    publish(p);
    String yield = queue + "/" + LockNode.yieldName(n.request(), currentSession());
    try {
      client.delete().quietly().inBackground().forPath(yield);
    } catch (Exception e) {
      log.debug("could not delete {}: {}", yield, e.toString()); // the next listing clears it
    }
    return true;
  }

  /**
   * Records a request whose creation an event reported and yields to it, without listing its queue;
   * false when the child is not a request (the caller lists the queue).
   */
  private boolean answerCreated(int p, String queue, String child) {
    LockNode n = child.indexOf('/') < 0 ? LockNode.parse(child) : null;
    if (n == null || n.kind() != LockNode.Kind.REQUEST) {
      return false;
    }
    Map<String, List<LockNode>> byQueue = requests.get(p);
    if (byQueue == null) {
      return true; // not watched any more
    }
    List<LockNode> known = byQueue.get(queue);
    if (known == null || !known.contains(n)) {
      List<LockNode> next = new ArrayList<>(known == null ? List.of() : known);
      next.add(n);
      byQueue.put(queue, List.copyOf(next));
      publish(p); // contested before the drain flips
    }
    drains.yieldTo(p, queue, n, locks.ownRequest(n.request()));
    return true;
  }

  /** Lists one queue again after an event in it, and acts on what it shows. */
  private void scanQueue(int p, String queue) throws Exception {
    LockQueue q = listQueue(p, queue);
    if (q == null) {
      return;
    }
    publish(p);
    react(p, queue, q);
  }

  /**
   * Lists one queue and records its requests; when some it had recorded are gone, sets its routing
   * key's resume token from the listing (a zxid after they went, before any request not yet seen).
   * Returns null when the partition is not watched any more.
   */
  private LockQueue listQueue(int p, String queue) throws Exception {
    Map<String, List<LockNode>> byQueue = requests.get(p);
    if (byQueue == null) {
      return null;
    }
    Stat stat = new Stat();
    List<String> children;
    long emptyAt;
    try {
      children = client.getChildren().storingStatIn(stat).forPath(queue);
      emptyAt = stat.getPzxid();
    } catch (KeeperException.NoNodeException e) {
      // Reaped. The partition's listing, in one read, either shows the queue again (list it anew)
      // or gives a zxid after its deletion and before any request that would recreate it.
      Stat ps = new Stat();
      List<String> siblings;
      try {
        siblings = client.getChildren().storingStatIn(ps).forPath(paths.lockPartition(p));
      } catch (KeeperException.NoNodeException gone) {
        siblings = List.of();
      }
      if (siblings.contains(ZKPaths.getNodeFromPath(queue))) {
        return listQueue(p, queue);
      }
      children = List.of();
      emptyAt = ps.getPzxid();
    }
    LockQueue q = LockQueue.of(children);
    List<LockNode> before = q.requests().isEmpty() ? byQueue.remove(queue) : byQueue.get(queue);
    if (before != null && !q.requests().containsAll(before)) {
      // Locks we saw here are gone, whether or not others remain (keys of one routing key share
      // the queue): the listing's pzxid is after their deletion and before any request it does
      // not show, so later fast-path tokens of this routing key exceed theirs. (A lock we never
      // saw was yielded by an earlier owner, so it is below our grant's token.)
      addResume(p, routingKeyOf(queue), emptyAt);
    }
    if (!q.requests().isEmpty()) {
      byQueue.put(queue, List.copyOf(q.requests()));
    }
    return q;
  }

  /** Clears this owner's stale yields in a queue and yields to its requests that lack one. */
  private void react(int p, String queue, LockQueue q) {
    String mySession = Long.toHexString(currentSession());
    for (LockNode y : q.yields()) {
      if (y.session().equals(mySession) && q.request(y.base()) == null) {
        deleteQuietly(queue + "/" + y.name());
      }
    }
    for (LockNode r : q.requests()) {
      boolean mine = false;
      for (LockNode y : q.yields()) {
        if (y.base().equals(r.request()) && y.session().equals(mySession)) {
          mine = true;
        }
      }
      if (!mine) {
        drains.yieldTo(p, queue, r, locks.ownRequest(r.request()));
      }
    }
  }

  private void addResume(int p, String routingKey, long zxid) {
    if (zxid <= 0) {
      return;
    }
    Map<String, Long> next = new HashMap<>();
    Map<String, Long> prev = state.resume.get(p);
    if (prev != null) {
      next.putAll(prev);
    }
    next.merge(routingKey, zxid, Math::max);
    state.resume.set(p, Map.copyOf(next));
  }

  private String routingKeyOf(String queue) {
    return LockKeys.decode(ZKPaths.getNodeFromPath(queue));
  }

  /** Publishes partition p's contested keys (resume tokens are written before). */
  private void publish(int p) {
    Map<String, List<LockNode>> byQueue = requests.get(p);
    if (byQueue == null || byQueue.isEmpty()) {
      state.contested.set(p, null);
      return;
    }
    Set<String> exact = new HashSet<>();
    List<String> subtrees = new ArrayList<>();
    for (List<LockNode> nodes : byQueue.values()) {
      for (LockNode n : nodes) {
        if (n.subtree()) {
          subtrees.add(n.key());
        } else {
          exact.add(n.key());
        }
      }
    }
    state.contested.set(p, new OwnerState.Contested(Set.copyOf(exact), List.copyOf(subtrees)));
  }

  /** Whether the request is still in the queue as last listed (it may have timed out meanwhile). */
  @Override
  public boolean stillRequested(int p, String queue, LockNode request) {
    Map<String, List<LockNode>> byQueue = requests.get(p);
    List<LockNode> nodes = byQueue == null ? null : byQueue.get(queue);
    return nodes != null && nodes.contains(request);
  }

  /**
   * Writes the yield, if this member still holds p's active grant. The check is under the monitor
   * the revocation takes; the create is not (a monitor held across a ZooKeeper call would let a
   * Curator retry hold up the revocation). A yield that lands after the grant was revoked is
   * harmless: it answers a request that existed while we owned p, so the next owner lists it when
   * it activates and treats its key as contested from the start, and our own fast path of p closed
   * with the revocation.
   */
  @Override
  public void writeYield(int p, String queue, LockNode request) {
    String path = state.yieldPath(p, queue, request.request(), this::currentSession);
    if (path == null) {
      return; // only the active owner yields
    }
    try {
      client.create().withMode(CreateMode.EPHEMERAL).forPath(path);
      metrics.yields.inc();
    } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException e) {
      // yielded already, or the request and its queue are gone
    } catch (Exception e) {
      log.warn("could not yield {} to {}: {}", queue, request.name(), e.toString());
      locks.schedule(
          () -> {
            try {
              scanQueue(p, queue);
            } catch (Exception ex) {
              log.debug("rescan of {} failed: {}", queue, ex.toString());
            }
          },
          100);
    }
  }

  private void unwatch(int p) {
    if (state.granted(p)) {
      return; // granted again meanwhile: its scan owns the partition's state
    }
    boolean watched = watches.remove(p);
    Map<String, List<LockNode>> byQueue = requests.remove(p);
    state.contested.set(p, null);
    String partitionPath = paths.lockPartition(p);
    List<String> queues = byQueue == null ? List.of() : List.copyOf(byQueue.keySet());
    long session = currentSession();
    // Now, or once the connection is back in this session: on a caller's client the session
    // outlives this service, and so would the watch and our yields.
    Membership.whenConnected(
        client,
        session,
        c -> PartitionRelease.clear(c, state, p, watched, partitionPath, queues, session));
  }

  private void deleteQuietly(String path) {
    try {
      client.delete().quietly().forPath(path);
    } catch (Exception e) {
      log.debug("could not delete {}: {}", path, e.toString());
    }
  }

  private long currentSession() {
    return locks.sessionId();
  }
}
