package io.ringwork.lock;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.Membership;
import io.ringwork.membership.SessionLease;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Partitioner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
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
 * writes the yield node {@code y-<request>-<owner session>} next to the request. The request's
 * creation event alone says all that (the node's name carries its key and mode), so the answer
 * costs one write and no read; the wait for guards in flight is woken by the last of them to close
 * (through the {@link FastPathGate}), never polled. Only then may the request be granted. A yield
 * is decided only while this member holds the partition's active grant (checked under the monitor a
 * revocation takes; the create itself runs outside it, so that no ZooKeeper call holds up a
 * revocation). A yield that lands after the revocation answers a request that existed while we
 * owned the partition: the successor lists it when it activates and treats its key as contested
 * from the start, so the late yield overlaps no fast guard. An owner that never finishes its guard
 * is never stolen from: the request times out naming the owner's delay.
 *
 * <p>When a request it saw is gone, the owner takes the zxid of its deletion event (or, when it
 * lists the queue, the listing's pzxid: the zxid of the queue's last child change), so at least the
 * last foreign lock's token and below any request it has not seen yet, as the resume token of that
 * routing key; fast-path tokens of its keys are at least that. Resume tokens are kept per partition
 * and routing key, and dropped when the partition's grant changes (a new grant's token is above
 * them all).
 *
 * <p>In-flight fast guards are counted per stripe of the routing key's hash by a {@link
 * FastPathGate}, in two epochs (a left-right scheme): a drain flips the stripe's epoch once the
 * epoch it would flip into is empty and waits for the old epoch's count to reach zero. A guard's
 * check that its key is free (partition still granted, lease valid, key not contested) runs after
 * its count is raised, and the contested set (or the closed fast path) is written before the drain
 * flips, so either the guard sees the key contested or the drain sees the guard; the gate's comment
 * has the argument. A drain that gives up (a timeout, a lost grant) leaves its flip in place; a
 * yield drain waits for the guards it left behind before it flips again, and {@code drainAll} does
 * not flip such a stripe but waits until both its epochs are empty.
 *
 * <p>The fast path of a partition is closed whenever its grant changes or its locks are being
 * listed again (after a reconnect), and opened only once the whole partition is listed.
 *
 * <p>Guards exclude other members, not this member's own threads: two threads of the owner may hold
 * fast guards on one key at once, as they may act on one granted partition.
 */
public final class PartitionGuards {

  private static final Logger log = LoggerFactory.getLogger(PartitionGuards.class);
  private static final int STRIPES = 4096;
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final KeyLockCore locks;
  private final CuratorFramework client;
  private final Partitioner partitioner;
  private final KeyRouter router;
  private final GroupPaths paths;
  private final LockMetrics metrics;
  private final int partitions;

  private final AtomicLongArray fast;
  private final AtomicReferenceArray<Contested> contested;
  private final AtomicReferenceArray<Map<String, Long>> resume;
  private final FastPathGate gate = new FastPathGate(STRIPES, this::woken);
  // Threads parked in a drain of all stripes, and yields waiting for guards (their count, and
  // whether a pass over them is queued on the event thread): woken by the gate.
  private final Set<Thread> parked = ConcurrentHashMap.newKeySet();
  private final AtomicInteger pendingDrains = new AtomicInteger();
  private final AtomicBoolean wakeQueued = new AtomicBoolean();
  private final AtomicInteger pendingScans = new AtomicInteger();
  private final AtomicLong abandoned = new AtomicLong();
  private volatile Runnable onReady = () -> {};
  private final SessionLease lease;
  // The session the active grants were activated in; the fast path is open only under its lease.
  private volatile long grantSession;

  // Guarded by this: the grants the rebalancer has given, and whether the connection is up.
  private final long[] granted;
  private boolean paused;
  private long session;

  // Confined to the lock service's event thread.
  private final Set<Integer> watches = new HashSet<>();
  private final Map<Integer, Map<String, List<LockNode>>> requests = new HashMap<>();
  private final Map<String, YieldDrain> drains = new LinkedHashMap<>();

  PartitionGuards(
      KeyLockCore locks,
      CuratorFramework client,
      SessionLease lease,
      Partitioner partitioner,
      GroupPaths paths,
      LockMetrics metrics) {
    this.locks = locks;
    this.client = client;
    this.partitioner = partitioner;
    this.router = partitioner.router();
    this.paths = paths;
    this.metrics = metrics;
    this.partitions = partitioner.partitions();
    this.fast = new AtomicLongArray(partitions);
    this.contested = new AtomicReferenceArray<>(partitions);
    this.resume = new AtomicReferenceArray<>(partitions);
    this.granted = new long[partitions];
    this.lease = lease;
  }

  // ---------------------------------------------------------------- the fast path

  /**
   * Guards a key for a block of work: at once and with no ZooKeeper request when this member holds
   * the active grant of the key's partition and nobody else locks the key; otherwise through a lock
   * in {@code mode}, waiting up to 30 seconds.
   *
   * @throws LockTimeoutException if the lock was not granted in time
   * @throws InterruptedException if interrupted while waiting for the lock
   * @throws AlreadyHeldException if a lock is needed and this member already holds or requests one
   *     on an overlapping key: another of its threads in a guard that went through the lock, or
   *     through {@link KeyLocks#acquire}. Fast-path guards of two threads do not exclude each
   *     other.
   */
  public KeyGuard guard(String key, LockMode mode)
      throws LockTimeoutException, InterruptedException {
    return guard(key, mode, DEFAULT_TIMEOUT);
  }

  /**
   * Guards a key, waiting up to {@code timeout} when it has to go through a lock.
   *
   * @throws AlreadyHeldException as {@link #guard(String, LockMode)}
   * @see #guard(String, LockMode)
   */
  public KeyGuard guard(String key, LockMode mode, Duration timeout)
      throws LockTimeoutException, InterruptedException {
    int end = router.routingKeyEnd(key);
    long hash = Partitioner.hash(key, 0, end);
    int p = partitioner.partitionOfHash(hash);
    long session = grantSession; // read once: the guard is of the session it was checked in
    long t = fast.get(p);
    int slot = t == 0 ? -1 : enter(key, hash, p, t, session);
    long token;
    LockHandle h = null;
    if (slot >= 0) {
      token = resumeToken(key, end, p, t);
    } else {
      h = acquire(key, mode, timeout);
      token = h.token();
    }
    // One allocation site, and the guard passed to no call: a caller's guard can be scalar.
    return new KeyGuard(this, key, p, slot, token, h, slot >= 0 ? session : 0);
  }

  /**
   * Guards a key only if it can be done on the fast path: this member holds the active grant of the
   * key's partition (under a valid session lease) and no other member locks or waits for the key.
   * Otherwise it returns empty at once, with no ZooKeeper request and nothing queued: for work that
   * should run on the key's owner or not at all. {@code mode} is the mode {@link #guard} would lock
   * in; a fast-path guard excludes every other member whatever the mode.
   *
   * @throws NullPointerException if {@code key} or {@code mode} is null
   */
  public Optional<KeyGuard> tryGuard(String key, LockMode mode) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(mode, "mode");
    int end = router.routingKeyEnd(key);
    long hash = Partitioner.hash(key, 0, end);
    int p = partitioner.partitionOfHash(hash);
    long session = grantSession;
    long t = fast.get(p);
    int slot = t == 0 ? -1 : enter(key, hash, p, t, session);
    if (slot < 0) {
      return Optional.empty();
    }
    return Optional.of(
        new KeyGuard(this, key, p, slot, resumeToken(key, end, p, t), null, session));
  }

  /**
   * The fast path: counts a guard in on the key's stripe and checks, after, that the key is still
   * free; returns the in-flight slot, or -1 (counted out again) when it is not.
   */
  private int enter(String key, long hash, int p, long t, long session) {
    int slot = gate.enter(gate.stripeOf(hash), () -> free(key, p, t, session));
    if (slot >= 0) {
      metrics.fastGuards.inc();
    }
    return slot;
  }

  /** Whether a fast guard on {@code key} may go ahead: read after it is counted in. */
  private boolean free(String key, int p, long t, long session) {
    if (fast.get(p) != t || !lease.valid(session)) {
      return false;
    }
    Contested c = contested.get(p);
    return c == null || !c.blocks(key);
  }

  /** The fast-path token of a key: the grant's, or its routing key's resume token if higher. */
  private long resumeToken(String key, int end, int p, long t) {
    Map<String, Long> r = resume.get(p);
    if (r != null) {
      Long after = r.get(end == key.length() ? key : key.substring(0, end));
      if (after != null && after > t) {
        return after;
      }
    }
    return t;
  }

  private LockHandle acquire(String key, LockMode mode, Duration timeout)
      throws LockTimeoutException, InterruptedException {
    metrics.lockedGuards.inc();
    return locks.acquire(LockRequest.of(key, mode).withTimeout(timeout).withPurpose("guard"));
  }

  void exit(int slot) {
    gate.exit(slot);
  }

  boolean stillOwned(int partition, long token, long session) {
    long t = fast.get(partition);
    return t != 0 && t <= token && session == grantSession && lease.valid(session);
  }

  /** The nanoseconds a fast guard of {@code session} may still act, by the session lease. */
  long remainingNanos(long session) {
    return session == grantSession ? lease.remainingNanos(session) : 0;
  }

  /**
   * Returns how many times fast guards were still open when their partition was withdrawn or a
   * drain gave up on them: each such guard was invalidated ({@link KeyGuard#ensureValid()} throws,
   * its token is below the next holder's) and logged.
   */
  public long abandonedDrains() {
    return abandoned.get();
  }

  /**
   * Waits until every fast guard that started before now has closed, up to {@code timeout}: for a
   * close that cannot wait inline (called from a listener callback), before it withdraws the
   * acknowledgement that lets a successor in.
   *
   * @return whether they all closed in time
   */
  public boolean awaitGuardsClosed(Duration timeout) {
    return drainAll(timeout);
  }

  /** Returns whether every granted partition's locks have been listed (its fast path decided). */
  public boolean ready() {
    return pendingScans.get() == 0;
  }

  /** Runs {@code listener} (on the lock service's thread) whenever {@link #ready()} turns true. */
  public void onReady(Runnable listener) {
    this.onReady = listener;
  }

  // ---------------------------------------------------------------- driven by the rebalancer

  /**
   * Takes the active grants: partitions with a non-zero token are this member's. Newly granted
   * partitions get the fast path once their locks are listed; partitions no longer granted lose it
   * at once, and this call waits (up to {@code drainTimeout}) for their fast guards in flight.
   *
   * @param tokens the active token per partition, 0 where none (an empty array: none at all)
   * @param connected whether the session is connected (grants are paused otherwise)
   * @param sessionId the session the grants belong to
   * @return whether every fast guard in flight closed in time, when a grant was withdrawn
   */
  public boolean update(long[] tokens, boolean connected, long sessionId, Duration drainTimeout) {
    if (tokens.length != partitions && tokens.length != 0) {
      throw new IllegalArgumentException(
          "tokens cover " + tokens.length + " partitions, the locks " + partitions);
    }
    List<Integer> gained = new ArrayList<>();
    List<Integer> dropped = new ArrayList<>();
    boolean resumed;
    boolean newSession;
    synchronized (this) {
      resumed = paused && connected;
      paused = !connected;
      newSession = sessionId != 0 && session != 0 && sessionId != session;
      session = sessionId;
      grantSession = sessionId;
      for (int p = 0; p < partitions; p++) {
        long next = tokens.length == 0 ? 0 : tokens[p];
        if (granted[p] != next) {
          fast.set(p, 0); // reopened only by a scan under the new grant
          resume.set(p, null); // a new grant's token is above every lock released before it
          if (granted[p] != 0) {
            dropped.add(p);
          }
          granted[p] = next;
          if (next != 0) {
            gained.add(p);
          }
        } else if (!connected) {
          fast.set(p, 0);
        } else if ((resumed || newSession) && next != 0) {
          fast.set(p, 0); // events may have been missed while disconnected: list again first
          gained.add(p);
        }
      }
      pendingScans.addAndGet(gained.size());
    }
    wakeDrains(); // yields waiting for guards of partitions no longer granted give up
    // A zero timeout (a close from a callback, which waits later with awaitGuardsClosed) only
    // closes the fast path: giving up at once would count guards as abandoned that are not.
    boolean drained = dropped.isEmpty() || drainTimeout.isZero() || drainAll(drainTimeout);
    boolean queued =
        locks.submit(
            () -> {
              if (newSession) {
                // Watches were registered in the old session and died with it: register anew.
                watches.clear();
              }
              for (int p : dropped) {
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
      pendingScans.addAndGet(-gained.size()); // closed: nothing will scan
    }
    return drained;
  }

  private void scanned() {
    if (pendingScans.decrementAndGet() == 0) {
      locks.runGuarded(onReady, "onReady", "");
    }
  }

  /**
   * Waits until every fast guard that started before now has closed. Each stripe is flipped
   * (left-right) when the epoch it would flip into is empty; a stripe where a guard that an earlier
   * drain gave up on still sits there is not flipped, and both its epochs are waited for.
   */
  private boolean drainAll(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int[] old = new int[STRIPES];
    boolean[] both = new boolean[STRIPES];
    int taken = 0;
    boolean ok = true;
    try {
      for (; taken < STRIPES; taken++) {
        int stripe = taken;
        if (!gate.tryBeginDrain(stripe)
            && !awaitGate(
                () -> gate.watchFlag(stripe),
                () -> gate.unwatchFlag(stripe),
                () -> gate.tryBeginDrain(stripe),
                deadline)) {
          ok = false;
          return false;
        }
        if (gate.nextEpochEmpty(taken)) {
          old[taken] = gate.flip(taken);
        } else {
          both[taken] = true;
        }
      }
      for (int s = 0; s < STRIPES; s++) {
        int stripe = s;
        int slot = old[s];
        boolean ready =
            both[s]
                ? gate.idle(stripe)
                    || awaitGate(
                        () -> {
                          gate.watchSlot(stripe << 1);
                          gate.watchSlot((stripe << 1) | 1);
                        },
                        () -> {
                          gate.unwatchSlot(stripe << 1);
                          gate.unwatchSlot((stripe << 1) | 1);
                        },
                        () -> gate.idle(stripe),
                        deadline)
                : gate.drained(slot)
                    || awaitGate(
                        () -> gate.watchSlot(slot),
                        () -> gate.unwatchSlot(slot),
                        () -> gate.drained(slot),
                        deadline);
        if (!ready) {
          ok = false;
          return false;
        }
      }
      return true;
    } finally {
      for (int s = 0; s < taken; s++) {
        gate.endDrain(s);
      }
      if (!ok) {
        abandoned.incrementAndGet();
        metrics.abandonedGuards.inc();
        log.warn(
            "fast guards of {} still open after {}: those of partitions no longer granted are"
                + " invalid from now on (ensureValid throws, their tokens are below the next"
                + " holder's); those of partitions still granted keep excluding foreign locks",
            locks.memberId(),
            timeout);
      }
    }
  }

  /**
   * Parks this thread until {@code ready} holds or the deadline passes: watches first and then
   * checks, so the gate's wake-up (a guard's exit emptying the slot, a drain releasing the flag) is
   * never missed; an interrupt gives up and stays set.
   */
  private boolean awaitGate(
      Runnable watch, Runnable unwatch, BooleanSupplier ready, long deadline) {
    Thread me = Thread.currentThread();
    parked.add(me);
    watch.run();
    try {
      while (!ready.getAsBoolean()) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || me.isInterrupted()) {
          return false;
        }
        LockSupport.parkNanos(this, left);
      }
      return true;
    } finally {
      unwatch.run();
      parked.remove(me);
    }
  }

  // ---------------------------------------------------------------- event thread

  private void scan(int p) {
    synchronized (this) {
      if (granted[p] == 0 || paused) {
        return;
      }
      fast.set(p, 0);
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
      synchronized (this) {
        if (granted[p] != 0 && !paused && requests.get(p) == found) {
          fast.set(p, granted[p]);
        }
      }
    } catch (Exception e) {
      log.warn(
          "could not list the locks of partition {} for {}; retrying: {}",
          p,
          locks.memberId(),
          e.toString());
      pendingScans.incrementAndGet();
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
        pendingScans.decrementAndGet();
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
          advanceDrains(); // a yield may wait to answer the request that went
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
      advanceDrains(); // a request may have gone that a yield waits to answer
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
    yieldTo(p, queue, n, locks.ownRequest(n.request()));
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
        yieldTo(p, queue, r, locks.ownRequest(r.request()));
      }
    }
  }

  private void addResume(int p, String routingKey, long zxid) {
    if (zxid <= 0) {
      return;
    }
    Map<String, Long> next = new HashMap<>();
    Map<String, Long> prev = resume.get(p);
    if (prev != null) {
      next.putAll(prev);
    }
    next.merge(routingKey, zxid, Math::max);
    resume.set(p, Map.copyOf(next));
  }

  private String routingKeyOf(String queue) {
    return LockKeys.decode(ZKPaths.getNodeFromPath(queue));
  }

  /** Publishes partition p's contested keys (resume tokens are written before). */
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
    if (own) {
      writeYield(p, queue, request);
      return;
    }
    String id = queue + "/" + request.name();
    if (drains.containsKey(id)) {
      return; // under way
    }
    int stripe =
        gate.stripeOf(Partitioner.hash(request.key(), 0, router.routingKeyEnd(request.key())));
    YieldDrain d = new YieldDrain(id, p, queue, request, stripe);
    drains.put(id, d);
    pendingDrains.incrementAndGet();
    advance(d);
  }

  /**
   * Takes a yield's drain as far as it can go now, on the event thread: the stripe's flag, an empty
   * epoch to flip into, the flip, the old epoch empty, then the yield. Where a step has to wait,
   * the drain watches what it waits for and returns; the guard that empties the slot (or the drain
   * that releases the flag) wakes {@link #advanceDrains} through the gate, and so do a grant change
   * and a change in the partition's queues. Nothing here sleeps or polls.
   */
  private void advance(YieldDrain d) {
    boolean granted = stillGranted(d.p);
    if (!granted || !stillRequested(d.p, d.queue, d.request)) {
      // Lost the grant or the request went (timed out, released): give up; a flip stays in place
      // and the next drain of the stripe waits for what it left behind.
      finish(d, false);
      return;
    }
    if (!d.flag) {
      if (!d.await(Phase.FLAG, () -> gate.tryBeginDrain(d.stripe))) {
        return;
      }
      d.flag = true;
    }
    if (d.slot < 0) {
      int next = gate.nextSlot(d.stripe);
      // A guard that an earlier drain gave up on still sits in the epoch we would flip into:
      // flipping now would count it as new and yield past it. Wait for it (left-right).
      if (!d.await(Phase.NEXT, next, () -> gate.drained(next))) {
        return;
      }
      d.slot = gate.flip(d.stripe);
    }
    if (!d.await(Phase.OLD, d.slot, () -> gate.drained(d.slot))) {
      return;
    }
    finish(d, true);
  }

  /** Ends a yield's drain: stops watching, releases the flag, and writes the yield if drained. */
  private void finish(YieldDrain d, boolean drained) {
    d.unwatch();
    if (drains.remove(d.id) == d) {
      pendingDrains.decrementAndGet();
    }
    if (d.flag) {
      d.flag = false;
      gate.endDrain(d.stripe);
    }
    if (drained) {
      writeYield(d.p, d.queue, d.request);
    }
  }

  /** Advances every yield waiting for fast guards (event thread), after a wake-up. */
  private void advanceDrains() {
    wakeQueued.set(false);
    if (drains.isEmpty()) {
      return;
    }
    for (YieldDrain d : List.copyOf(drains.values())) {
      if (drains.get(d.id) == d) {
        advance(d);
      }
    }
  }

  /**
   * The gate's wake-up, on the thread that closed the last guard of a watched slot or released a
   * watched drain flag (a guard's own thread, the event thread, or a drain of all stripes): wakes
   * the drains of all stripes that wait, and queues one pass over the waiting yields.
   */
  private void woken(int stripe) {
    for (Thread t : parked) {
      LockSupport.unpark(t);
    }
    wakeDrains();
  }

  /** Queues one pass over the yields waiting for fast guards, unless one is queued already. */
  private void wakeDrains() {
    if (pendingDrains.get() > 0 && wakeQueued.compareAndSet(false, true)) {
      if (!locks.submit(this::advanceDrains)) {
        wakeQueued.set(false); // closed
      }
    }
  }

  private enum Phase {
    FLAG,
    NEXT,
    OLD
  }

  /** A yield waiting for the fast guards of its stripe: confined to the event thread. */
  private final class YieldDrain {
    final String id;
    final int p;
    final String queue;
    final LockNode request;
    final int stripe;
    boolean flag;
    int slot = -1;
    // What this drain watches: the phase, and the slot for NEXT and OLD.
    Phase watching;
    int watchedSlot = -1;

    YieldDrain(String id, int p, String queue, LockNode request, int stripe) {
      this.id = id;
      this.p = p;
      this.queue = queue;
      this.request = request;
      this.stripe = stripe;
    }

    boolean await(Phase phase, BooleanSupplier ready) {
      return await(phase, -1, ready);
    }

    /**
     * Whether {@code ready} holds; if not, watches it (watch first, then look again: the gate's
     * wake-up is then never missed) and returns false, to be advanced again when woken.
     */
    boolean await(Phase phase, int watchSlot, BooleanSupplier ready) {
      if (watching != phase || watchedSlot != watchSlot) {
        if (ready.getAsBoolean()) {
          unwatch();
          return true;
        }
        unwatch();
        watching = phase;
        watchedSlot = watchSlot;
        if (phase == Phase.FLAG) {
          gate.watchFlag(stripe);
        } else {
          gate.watchSlot(watchSlot);
        }
      }
      if (ready.getAsBoolean()) {
        unwatch();
        return true;
      }
      return false;
    }

    void unwatch() {
      if (watching == Phase.FLAG) {
        gate.unwatchFlag(stripe);
      } else if (watching != null) {
        gate.unwatchSlot(watchedSlot);
      }
      watching = null;
      watchedSlot = -1;
    }
  }

  /** Whether the request is still in the queue as last listed (it may have timed out meanwhile). */
  private boolean stillRequested(int p, String queue, LockNode request) {
    Map<String, List<LockNode>> byQueue = requests.get(p);
    List<LockNode> nodes = byQueue == null ? null : byQueue.get(queue);
    return nodes != null && nodes.contains(request);
  }

  private synchronized boolean stillGranted(int p) {
    return granted[p] != 0 && !paused;
  }

  /**
   * Writes the yield, if this member still holds p's active grant. The check is under the monitor
   * the revocation takes; the create is not (a monitor held across a ZooKeeper call would let a
   * Curator retry hold up the revocation). A yield that lands after the grant was revoked is
   * harmless: it answers a request that existed while we owned p, so the next owner lists it when
   * it activates and treats its key as contested from the start, and our own fast path of p closed
   * with the revocation.
   */
  private void writeYield(int p, String queue, LockNode request) {
    String path;
    synchronized (this) {
      if (granted[p] == 0 || paused || session != currentSession()) {
        return; // only the active owner yields
      }
      path = queue + "/" + LockNode.yieldName(request.request(), session);
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
    synchronized (this) {
      if (granted[p] != 0) {
        return; // granted again meanwhile: its scan owns the partition's state
      }
    }
    boolean watched = watches.remove(p);
    Map<String, List<LockNode>> byQueue = requests.remove(p);
    contested.set(p, null);
    String partitionPath = paths.lockPartition(p);
    List<String> queues = byQueue == null ? List.of() : List.copyOf(byQueue.keySet());
    long session = currentSession();
    // Now, or once the connection is back in this session: on a caller's client the session
    // outlives this service, and so would the watch and our yields.
    Membership.whenConnected(
        client, session, c -> clearPartition(c, p, watched, partitionPath, queues, session));
  }

  /**
   * Removes this member's watch of a partition it no longer holds and its yields there (they stay
   * valid evidence, but nobody needs them from us any more); true when done or nothing is left.
   */
  private boolean clearPartition(
      CuratorFramework c,
      int p,
      boolean watched,
      String partitionPath,
      List<String> queues,
      long session) {
    synchronized (this) {
      if (granted[p] != 0) {
        return true; // granted again meanwhile: its scan owns the partition's watch and yields
      }
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

  void close() {
    synchronized (this) {
      Arrays.fill(granted, 0);
      for (int p = 0; p < partitions; p++) {
        fast.set(p, 0);
      }
    }
    wakeDrains();
    locks.submit(
        () -> {
          for (int p : List.copyOf(watches)) {
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
    return locks.sessionId();
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
