package io.ringwork.lock;

import io.ringwork.membership.GroupPaths;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Partitioner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partition owner's side of the lock fallback: {@link #guard} with no ZooKeeper request for
 * keys nobody else locks, and yields for the keys someone does.
 *
 * <h2>Protocol</h2>
 *
 * <p>The owner of partition p watches {@code locks/<p>} with one persistent recursive watch (so
 * watches are O(owned partitions), never O(keys)). Before it lets any guard of p take the fast path
 * it registers that watch and lists p's queues; every key with a lock request there is
 * <em>contested</em> and goes through the lock. A requester, for its part, creates its node before
 * it looks for the owner's yield. Write-then-read on both sides: an owner that activates after a
 * request was created lists it; a request created after the owner listed reaches it through the
 * watch; so no request is missed (research note 7.0 #4).
 *
 * <p>Seeing a new request, the owner marks its key contested (new guards on it go through the
 * lock), waits for the fast-path guards already in flight on the key's routing key to close, then
 * writes the yield node {@code y-<request>-<owner session>} next to the request. Only then may the
 * request be granted. A yield is written only while this member holds the partition's active grant;
 * a revocation takes the same monitor, so no yield is written after the grant is gone (and so
 * before a successor activates). An owner that never finishes its guard is never stolen from: the
 * request times out naming the owner's delay.
 *
 * <p>When the last request of a queue is gone, the owner deletes its yields there and reads the
 * queue's (or the partition's) pzxid, the zxid of that last change; the next fast-path token of the
 * partition is at least that, hence above every foreign lock's token.
 *
 * <p>In-flight fast guards are counted per stripe of the routing key's hash, in two epochs (a
 * left-right scheme): a drain flips the stripe's epoch and waits for the old epoch's count to reach
 * zero, so new guards never starve it. The count is raised before the contested set is read and the
 * set is written before the epoch flips; both are sequentially consistent atomics, so either the
 * guard sees the key contested or the drain sees the guard (Dekker's argument).
 *
 * <p>Guards exclude other members, not this member's own threads: two threads of the owner may hold
 * fast guards on one key at once, as they may act on one granted partition.
 */
public final class PartitionGuards {

  private static final Logger log = LoggerFactory.getLogger(PartitionGuards.class);
  private static final int STRIPES = 4096;
  private static final int MASK = STRIPES - 1;
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final KeyLocks locks;
  private final CuratorFramework client;
  private final Partitioner partitioner;
  private final KeyRouter router;
  private final GroupPaths paths;
  private final LockMetrics metrics;
  private final int partitions;

  private final AtomicLongArray fast;
  private final AtomicLongArray resume;
  private final AtomicReferenceArray<Contested> contested;
  private final AtomicIntegerArray epoch = new AtomicIntegerArray(STRIPES);
  private final AtomicIntegerArray inflight = new AtomicIntegerArray(2 * STRIPES);

  // Guarded by this: the grants the rebalancer has given, and whether the connection is up.
  private final long[] granted;
  private boolean paused;
  private long session;

  // Confined to the lock service's event thread.
  private final Map<Integer, Watcher> watches = new HashMap<>();
  private final Map<Integer, Map<String, List<LockNode>>> requests = new HashMap<>();
  private final Set<String> draining = new HashSet<>();

  PartitionGuards(KeyLocks locks, Partitioner partitioner, GroupPaths paths, LockMetrics metrics) {
    this.locks = locks;
    this.client = locks.client();
    this.partitioner = partitioner;
    this.router = partitioner.router();
    this.paths = paths;
    this.metrics = metrics;
    this.partitions = partitioner.partitions();
    this.fast = new AtomicLongArray(partitions);
    this.resume = new AtomicLongArray(partitions);
    this.contested = new AtomicReferenceArray<>(partitions);
    this.granted = new long[partitions];
  }

  // ---------------------------------------------------------------- the fast path

  /**
   * Guards a key for a block of work: at once and with no ZooKeeper request when this member holds
   * the active grant of the key's partition and nobody else locks the key; otherwise through a lock
   * in {@code mode}, waiting up to 30 seconds.
   *
   * @throws LockTimeoutException if the lock was not granted in time
   * @throws InterruptedException if interrupted while waiting for the lock
   */
  public KeyGuard guard(String key, LockMode mode)
      throws LockTimeoutException, InterruptedException {
    return guard(key, mode, DEFAULT_TIMEOUT);
  }

  /**
   * Guards a key, waiting up to {@code timeout} when it has to go through a lock.
   *
   * @see #guard(String, LockMode)
   */
  public KeyGuard guard(String key, LockMode mode, Duration timeout)
      throws LockTimeoutException, InterruptedException {
    int end = router.routingKeyEnd(key);
    long hash = Partitioner.hash(key, 0, end);
    int p = partitioner.partitionOfHash(hash);
    long t = fast.get(p);
    if (t != 0) {
      int stripe = (int) hash & MASK;
      int slot = (stripe << 1) | epoch.get(stripe);
      inflight.incrementAndGet(slot);
      Contested c = contested.get(p);
      if (fast.get(p) == t && (c == null || !c.blocks(key))) {
        metrics.fastGuards.mark();
        return new KeyGuard(this, key, p, slot, Math.max(t, resume.get(p)), null);
      }
      inflight.decrementAndGet(slot);
    }
    metrics.lockedGuards.mark();
    LockHandle h =
        locks.acquire(LockRequest.of(key, mode).withTimeout(timeout).withPurpose("guard"));
    return new KeyGuard(this, key, p, -1, h.token(), h);
  }

  void exit(int slot) {
    inflight.decrementAndGet(slot);
  }

  boolean stillOwned(int partition, long token) {
    long t = fast.get(partition);
    return t != 0 && t <= token;
  }

  /** Returns whether a guard of this key would take the fast path now. */
  public boolean fastPathOpen(String key) {
    int p = partitioner.partition(key);
    Contested c = contested.get(p);
    return fast.get(p) != 0 && (c == null || !c.blocks(key));
  }

  // ---------------------------------------------------------------- driven by the rebalancer

  /**
   * Takes the active grants: partitions with a non-zero token are this member's. Newly granted
   * partitions get the fast path once their locks are listed; partitions no longer granted lose it
   * at once, and this call waits (up to {@code drainTimeout}) for their fast guards in flight.
   *
   * @param tokens the active token per partition, 0 where none
   * @param connected whether the session is connected (grants are paused otherwise)
   * @param sessionId the session the grants belong to
   * @return whether every revoked partition's fast guards closed in time
   */
  public boolean update(long[] tokens, boolean connected, long sessionId, Duration drainTimeout) {
    if (tokens.length != partitions && tokens.length != 0) {
      throw new IllegalArgumentException(
          "tokens cover " + tokens.length + " partitions, the locks " + partitions);
    }
    List<Integer> gained = new ArrayList<>();
    List<Integer> dropped = new ArrayList<>();
    boolean resumed;
    synchronized (this) {
      resumed = paused && connected;
      paused = !connected;
      session = sessionId;
      for (int p = 0; p < partitions; p++) {
        long next = tokens.length == 0 ? 0 : tokens[p];
        if (granted[p] != next) {
          if (granted[p] != 0) {
            dropped.add(p);
          }
          granted[p] = next;
          if (next != 0) {
            gained.add(p);
          }
        }
        if (!connected || next == 0) {
          fast.set(p, 0);
        }
      }
    }
    boolean drained = dropped.isEmpty() || drainAll(drainTimeout);
    locks.submit(
        () -> {
          for (int p : dropped) {
            unwatch(p);
          }
          if (resumed) {
            // Events may have been missed while disconnected: list every owned partition again.
            for (int p : List.copyOf(watches.keySet())) {
              scan(p);
            }
          }
          for (int p : gained) {
            scan(p);
          }
        });
    return drained;
  }

  /** Waits until every fast guard that started before now has closed. */
  private boolean drainAll(Duration timeout) {
    for (int s = 0; s < STRIPES; s++) {
      epoch.set(s, epoch.get(s) ^ 1);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int s = 0; s < STRIPES; s++) {
      int old = (s << 1) | (epoch.get(s) ^ 1);
      while (inflight.get(old) > 0) {
        if (System.nanoTime() - deadline > 0) {
          log.warn("fast guards of {} still open after {}", locks.memberId(), timeout);
          return false;
        }
        try {
          TimeUnit.MICROSECONDS.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- event thread

  private void scan(int p) {
    synchronized (this) {
      if (granted[p] == 0 || paused) {
        return;
      }
    }
    String path = paths.lockPartition(p);
    try {
      if (!watches.containsKey(p)) {
        try {
          client.create().creatingParentsIfNeeded().forPath(path);
        } catch (KeeperException.NodeExistsException e) {
          // there already
        }
        Watcher w = event -> locks.submit(() -> changed(p, event.getPath()));
        client
            .watchers()
            .add()
            .withMode(AddWatchMode.PERSISTENT_RECURSIVE)
            .usingWatcher(w)
            .forPath(path);
        watches.put(p, w);
      }
      requests.put(p, new HashMap<>());
      for (String queue : client.getChildren().forPath(path)) {
        scanQueue(p, path + "/" + queue);
      }
      synchronized (this) {
        if (granted[p] != 0 && !paused) {
          fast.set(p, granted[p]);
        }
      }
    } catch (Exception e) {
      log.warn(
          "could not list the locks of partition {} for {}; retrying: {}",
          p,
          locks.memberId(),
          e.toString());
      locks.events().schedule(() -> scan(p), 200, TimeUnit.MILLISECONDS);
    }
  }

  private void changed(int p, String path) {
    if (!watches.containsKey(p) || path == null) {
      return;
    }
    String base = locks.unfix(path);
    String partitionPath = paths.lockPartition(p);
    if (!base.startsWith(partitionPath + "/")) {
      return;
    }
    String rest = base.substring(partitionPath.length() + 1);
    int slash = rest.indexOf('/');
    String queue = partitionPath + "/" + (slash < 0 ? rest : rest.substring(0, slash));
    try {
      scanQueue(p, queue);
    } catch (Exception e) {
      log.warn("could not list lock queue {}; retrying: {}", queue, e.toString());
      locks.events().schedule(() -> changed(p, path), 200, TimeUnit.MILLISECONDS);
    }
  }

  private void scanQueue(int p, String queue) throws Exception {
    Stat stat = new Stat();
    List<String> children;
    try {
      children = client.getChildren().storingStatIn(stat).forPath(queue);
    } catch (KeeperException.NoNodeException e) {
      children = List.of();
      stat = client.checkExists().forPath(paths.lockPartition(p));
    }
    LockQueue q = LockQueue.of(children);
    Map<String, List<LockNode>> byQueue = requests.computeIfAbsent(p, k -> new HashMap<>());
    String mySession = Long.toHexString(currentSession());
    if (q.requests().isEmpty()) {
      if (byQueue.remove(queue) != null || !q.yields().isEmpty()) {
        for (LockNode y : q.yields()) {
          if (y.session().equals(mySession)) {
            deleteQuietly(queue + "/" + y.name());
          }
        }
        Stat after = client.checkExists().forPath(queue);
        Stat parent = client.checkExists().forPath(paths.lockPartition(p));
        long pzxid =
            Math.max(
                stat == null ? 0 : stat.getPzxid(),
                Math.max(
                    after == null ? 0 : after.getPzxid(), parent == null ? 0 : parent.getPzxid()));
        resume.accumulateAndGet(p, pzxid, Math::max);
        publish(p);
      }
      return;
    }
    byQueue.put(queue, List.copyOf(q.requests()));
    publish(p);
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
        yieldTo(p, queue, r, locks.ownRequest(r.request()));
      }
    }
  }

  /** Publishes partition p's contested keys; the resume token is written before. */
  private void publish(int p) {
    Map<String, List<LockNode>> byQueue = requests.get(p);
    if (byQueue == null || byQueue.isEmpty()) {
      contested.set(p, null);
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
    contested.set(p, new Contested(Set.copyOf(exact), List.copyOf(subtrees)));
  }

  /** Drains the request's stripe (unless it is this member's own), then writes the yield. */
  private void yieldTo(int p, String queue, LockNode request, boolean own) {
    String id = queue + "/" + request.name();
    if (!own) {
      if (!draining.add(id)) {
        return; // a drain for it is under way
      }
      int stripe =
          (int) Partitioner.hash(request.key(), 0, router.routingKeyEnd(request.key())) & MASK;
      epoch.set(stripe, epoch.get(stripe) ^ 1);
      int old = (stripe << 1) | (epoch.get(stripe) ^ 1);
      awaitDrain(p, queue, request, old, System.nanoTime());
      return;
    }
    writeYield(p, queue, request);
  }

  private void awaitDrain(int p, String queue, LockNode request, int slot, long since) {
    if (inflight.get(slot) > 0) {
      synchronized (this) {
        if (granted[p] == 0 || paused) {
          draining.remove(queue + "/" + request.name());
          return;
        }
      }
      locks
          .events()
          .schedule(() -> awaitDrain(p, queue, request, slot, since), 1, TimeUnit.MILLISECONDS);
      return;
    }
    draining.remove(queue + "/" + request.name());
    writeYield(p, queue, request);
  }

  private void writeYield(int p, String queue, LockNode request) {
    synchronized (this) {
      if (granted[p] == 0 || paused || session != currentSession()) {
        return; // only the active owner yields
      }
      String path = queue + "/" + LockNode.yieldName(request.request(), session);
      try {
        client.create().withMode(CreateMode.EPHEMERAL).forPath(path);
        metrics.yields.inc();
      } catch (KeeperException.NodeExistsException | KeeperException.NoNodeException e) {
        // yielded already, or the request and its queue are gone
      } catch (Exception e) {
        log.warn("could not yield {} to {}: {}", queue, request.name(), e.toString());
        locks
            .events()
            .schedule(
                () -> {
                  try {
                    scanQueue(p, queue);
                  } catch (Exception ex) {
                    log.debug("rescan of {} failed: {}", queue, ex.toString());
                  }
                },
                100,
                TimeUnit.MILLISECONDS);
      }
    }
  }

  private void unwatch(int p) {
    Watcher w = watches.remove(p);
    Map<String, List<LockNode>> byQueue = requests.remove(p);
    contested.set(p, null);
    if (w != null) {
      try {
        client
            .watchers()
            .remove(w)
            .ofType(Watcher.WatcherType.Any)
            .quietly()
            .forPath(paths.lockPartition(p));
      } catch (Exception e) {
        log.debug("could not remove the watch of partition {}: {}", p, e.toString());
      }
    }
    // Hygiene: our yields there stay valid evidence, but nobody needs them from us any more.
    if (byQueue != null) {
      String mySession = Long.toHexString(currentSession());
      for (String queue : byQueue.keySet()) {
        try {
          for (String child : client.getChildren().forPath(queue)) {
            LockNode n = LockNode.parse(child);
            if (n != null && n.kind() == LockNode.Kind.YIELD && n.session().equals(mySession)) {
              deleteQuietly(queue + "/" + child);
            }
          }
        } catch (Exception e) {
          log.debug("could not clear yields in {}: {}", queue, e.toString());
        }
      }
    }
  }

  /** A lock of this member went: nothing to do but let the watch report it. */
  void lockGone(LockHandle h) {}

  void close() {
    synchronized (this) {
      java.util.Arrays.fill(granted, 0);
      for (int p = 0; p < partitions; p++) {
        fast.set(p, 0);
      }
    }
    locks.submit(
        () -> {
          for (int p : List.copyOf(watches.keySet())) {
            unwatch(p);
          }
        });
  }

  private void deleteQuietly(String path) {
    try {
      client.delete().quietly().forPath(path);
    } catch (Exception e) {
      log.debug("could not delete {}: {}", path, e.toString());
    }
  }

  private long currentSession() {
    return locks.sessionIdOrZero();
  }

  /** The keys of one partition that someone else locks: immutable, swapped whole. */
  private record Contested(Set<String> exact, List<String> subtrees) {
    boolean blocks(String key) {
      if (exact.contains(key)) {
        return true;
      }
      for (String s : subtrees) {
        if (LockKeys.within(key, s)) {
          return true;
        }
      }
      return false;
    }
  }
}
