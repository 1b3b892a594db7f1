package io.ringwork.lock;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.Lifecycle;
import io.ringwork.membership.Membership;
import io.ringwork.membership.SessionLease;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Partitioner;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-key locks over ZooKeeper for contested resources: SHARED, UPGRADABLE and EXCLUSIVE, FIFO,
 * with fencing tokens, handles that report loss, release that never throws, subtree locks and
 * introspection. Usable alone (Cinder-style named locks) or through a rebalancer, whose partition
 * owners act on their keys with no lock at all and yield a key when someone else locks it.
 *
 * <pre>{@code
 * try (KeyLocks locks = KeyLocks.newBuilder().client(curator).group("volumes").memberId("c-1").build()) {
 *   locks.start();
 *   try (LockHandle h = locks.acquire(LockRequest.of("vol-7", LockMode.EXCLUSIVE))) {
 *     store.write("vol-7", value, h.token()); // the store rejects tokens lower than it has seen
 *   }
 * }
 * }</pre>
 *
 * <h2>Design</h2>
 *
 * <p>Layout: {@code <group>/locks/<partition>/<routing key>/<node>}. The partition node is
 * persistent (so only the queue level is created per new key, and an owner can watch a partition
 * whose queues come and go); the queue is a container the server reaps when it is empty. All keys
 * that share a routing key queue together, so a subtree lock ({@code stack-7} covering {@code
 * stack-7/...}) and the locks below it are ordered by one queue; plain keys of one queue stay
 * independent. {@link LockQueue} has the grant rules and {@link LockNode} the node names.
 *
 * <p>Acquire follows ZooKeeper's lock recipe without Curator's lock recipes, whose holder state
 * survives session loss and whose upgrade hangs: create an ephemeral sequential node named with a
 * random request id (create2, so its czxid, the fencing token, costs no extra round trip; the id
 * finds the node again when the create's reply is lost), list the queue, and wait on the nearest
 * earlier conflicting node. The token is never the sequence suffix: it restarts when a queue is
 * reaped. Then, where the group has partition owners, wait until an owner has yielded the key to
 * this request ({@link PartitionGuards}); a group with no live worker has no owner to wait for.
 *
 * <p>A handle follows its session: SUSPENDED when the connection is, HELD again only if its node
 * still exists in the same session, LOST otherwise, or when the node is deleted under it by {@link
 * #breakLock} (which pokes the holder's mailbox node, {@code <group>/lock-mail/<member>}: one watch
 * per service instead of one per hold; a node deleted by hand is noticed at the next reconnect or
 * poke). Release deletes the handle's own node by its exact path, in its own session; when the
 * connection is down it is done in the background.
 *
 * <p>Requests, holds and background deletes run on the caller's thread and one event thread per
 * service; listener callbacks run on the event thread, guarded.
 */
public final class KeyLocks implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KeyLocks.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private volatile SessionLease lease;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The number of partitions used when neither the builder nor the group config gives one. */
  public static final int DEFAULT_PARTITIONS = 256;

  /** The namespace used when the builder gives none, as the rebalancer's. */
  public static final String DEFAULT_NAMESPACE = "/ringwork";

  private final CuratorFramework client;
  private final GroupPaths paths;
  private final String group;
  private final String selfId;
  private final int configuredPartitions;
  private final KeyRouter router;
  private final LongSupplier incarnation;
  private final LongSupplier clock;
  private final LongSupplier nanoTime;
  private final LockMetrics metrics;
  private final ScheduledExecutorService events;
  private final Lifecycle lifecycle = new Lifecycle();
  private final Set<LockHandle> active = ConcurrentHashMap.newKeySet();
  private final Set<CountDownLatch> waiting = ConcurrentHashMap.newKeySet();
  private final Set<Integer> knownPartitions = ConcurrentHashMap.newKeySet();
  private final AtomicLong pokes = new AtomicLong();
  private final Watcher mailWatcher =
      e -> {
        if (e.getType() != Watcher.Event.EventType.None) {
          pokes.incrementAndGet();
          submit(this::checkHolds);
        }
      };
  private final ConnectionStateListener connectionListener = (c, s) -> stateChanged(s);

  private volatile Partitioner partitioner;
  private volatile boolean ownersYield = true;
  private volatile PartitionGuards guards;

  private KeyLocks(Builder b) {
    this.client = b.client;
    this.group = b.group;
    this.paths = GroupPaths.of(b.namespace, b.group);
    this.selfId = b.memberId;
    this.configuredPartitions = b.partitions;
    this.router = b.router;
    this.clock = b.clock;
    this.nanoTime = b.nanoTime;
    this.incarnation = b.incarnation != null ? b.incarnation : this::sessionIdOrZero;
    this.metrics =
        new LockMetrics(
            b.metrics,
            b.group,
            b.memberId,
            () -> (int) active.stream().filter(h -> h.state() != LockState.ACQUIRING).count(),
            () -> (int) active.stream().filter(h -> h.state() == LockState.ACQUIRING).count());
    String name = "ringwork-locks-" + b.group + "-" + b.memberId;
    this.events =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
  }

  /** Returns a new builder. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Starts the service: reads the group's stored config, if any, for its partition count and
   * strategy, and follows the connection.
   *
   * @throws IllegalStateException if started twice or closed, if the Curator client is not started,
   *     if ZooKeeper cannot be reached, or if the partitions given differ from the group's
   */
  public void start() {
    lifecycle.start();
    if (client.getState() != CuratorFrameworkState.STARTED) {
      close();
      throw new IllegalStateException(
          "the Curator client must be started before the lock service of " + selfId);
    }
    try {
      readConfig();
    } catch (RuntimeException e) {
      close();
      throw e;
    } catch (Exception e) {
      close();
      throw new IllegalStateException(
          "could not read the group config at " + paths.config() + ": " + e, e);
    }
    lease = SessionLease.acquire(client);
    watchMail();
    client.getConnectionStateListenable().addListener(connectionListener, events);
  }

  /** The lease of this service's client session: what every held lock and guard is checked by. */
  SessionLease lease() {
    return lease;
  }

  private void readConfig() throws Exception {
    readConfig(0);
  }

  private void readConfig(int attempt) throws Exception {
    int partitions = configuredPartitions;
    try {
      byte[] data = client.getData().forPath(paths.config());
      JsonNode config = JSON.readTree(data);
      if ("tooz".equals(config.path("strategy").asText())) {
        // Tooz groups have rings, not partitions (their "partitions" are points per member), and
        // no partition owner to yield: locks queue by this service's own partitioning.
        ownersYield = false;
        partitioner = Partitioner.of(partitions > 0 ? partitions : DEFAULT_PARTITIONS, router);
        return;
      }
      int stored = config.path("partitions").asInt(-1);
      if (stored <= 0) {
        throw new IllegalStateException(
            "group config at " + paths.config() + " has no partition count: " + config);
      }
      if (partitions > 0 && partitions != stored) {
        throw new IllegalStateException(
            "partitions is "
                + stored
                + " in the group config at "
                + paths.config()
                + " but "
                + partitions
                + " for this lock service");
      }
      partitions = stored;
      ownersYield = !"tooz".equals(config.path("strategy").asText());
    } catch (KeeperException.NoNodeException e) {
      partitions = partitions > 0 ? partitions : DEFAULT_PARTITIONS;
      if (!createConfig(partitions)) {
        if (attempt >= 5) {
          throw new IllegalStateException(
              "group config at " + paths.config() + " keeps being created and deleted");
        }
        readConfig(attempt + 1); // another service created it first: take its count or fail
        return;
      }
    }
    partitioner = Partitioner.of(partitions, router);
  }

  /**
   * Creates the group config with this service's partition count, so that a rebalancer or another
   * lock service starting later queues every key where this one does (or fails, naming both
   * counts). A create is a compare-and-set: when it loses, the caller reads the winner's config.
   * The strategy is left for the first rebalancer to add.
   *
   * @return whether this call created it
   */
  private boolean createConfig(int partitions) throws Exception {
    String config =
        "{\"format\":1,\"partitions\":" + partitions + ",\"hash\":\"" + CONFIG_HASH + "\"}";
    try {
      client
          .create()
          .creatingParentsIfNeeded()
          .forPath(paths.config(), config.getBytes(StandardCharsets.UTF_8));
      return true;
    } catch (KeeperException.NodeExistsException e) {
      return false;
    }
  }

  /** The key hash every group config names (the partitioner's). */
  static final String CONFIG_HASH = "xxh3-64-top-bits";

  // ---------------------------------------------------------------- acquire

  /**
   * Acquires a lock, waiting up to the request's timeout.
   *
   * @throws LockTimeoutException if it was not granted in time, naming what it waited for; nothing
   *     is left behind
   * @throws InterruptedException if interrupted while waiting; nothing is left behind
   * @throws AlreadyHeldException if this service already holds or requests an overlapping key
   * @throws IllegalArgumentException if a subtree lock is asked of a key whose subtree does not
   *     route with it
   * @throws IllegalStateException if the service is not started or is closed meanwhile
   */
  public LockHandle acquire(LockRequest request) throws LockTimeoutException, InterruptedException {
    requireStarted("acquire");
    Partitioner part = partitioner;
    String key = request.key();
    int rkEnd = router.routingKeyEnd(key);
    if (request.subtree() && router.routingKeyEnd(key + "/x") > key.length()) {
      throw new IllegalArgumentException(
          "a subtree lock needs a router that routes "
              + LockKeys.shown(key + "/...")
              + " with "
              + LockKeys.shown(key)
              + " (for example KeyRouter.upTo('/')); this one is "
              + router);
    }
    int partition = part.partition(key);
    String queue = paths.lockPartition(partition) + "/" + LockKeys.encode(key.substring(0, rkEnd));
    LockHandle h = new LockHandle(this, request, partition, queue, newRequestId());
    synchronized (active) {
      for (LockHandle other : active) {
        if (other.isActive()
            && LockKeys.overlap(other.key(), other.subtree(), key, request.subtree())) {
          throw new AlreadyHeldException(
              "member "
                  + selfId
                  + " already holds or requests "
                  + LockKeys.shown(other.key())
                  + (other.subtree() ? " (subtree)" : "")
                  + " as "
                  + other.mode()
                  + "; locks are not re-entrant: release it first or downgrade/upgrade it");
        }
      }
      active.add(h);
    }
    long start = nanoTime.getAsLong();
    long deadline = start + request.timeout().toNanos();
    long poked = pokes.get();
    boolean granted = false;
    try {
      create(h, deadline);
      boolean waited = awaitGrant(h, deadline);
      if (!h.held()) {
        throw new IllegalStateException("lock service closed while acquiring " + key);
      }
      awaitLease(h, deadline);
      granted = true;
      if (waited) {
        metrics.contended.inc();
      }
      metrics.acquired(nanoTime.getAsLong() - start);
      if (pokes.get() != poked) {
        submit(this::checkHolds); // a break while we acquired would have skipped this handle
      }
      return h;
    } catch (LockTimeoutException e) {
      metrics.timeouts.inc();
      throw e;
    } finally {
      if (!granted) {
        abandon(h);
      }
    }
  }

  /**
   * Acquires a lock with the default timeout of {@link LockRequest}.
   *
   * @see #acquire(LockRequest)
   */
  public LockHandle acquire(String key, LockMode mode)
      throws LockTimeoutException, InterruptedException {
    return acquire(LockRequest.of(key, mode));
  }

  /**
   * Acquires a lock, waiting up to {@code timeout}.
   *
   * @see #acquire(LockRequest)
   */
  public LockHandle acquire(String key, LockMode mode, Duration timeout)
      throws LockTimeoutException, InterruptedException {
    return acquire(LockRequest.of(key, mode).withTimeout(timeout));
  }

  /**
   * Acquires a lock only if it can be granted at once (one create, one listing, and one delete when
   * it cannot); never waits for a holder.
   *
   * @return the handle, or empty when the key is taken
   * @throws InterruptedException if interrupted
   */
  public Optional<LockHandle> tryAcquire(String key, LockMode mode) throws InterruptedException {
    try {
      return Optional.of(acquire(LockRequest.of(key, mode).withTimeout(Duration.ZERO)));
    } catch (LockTimeoutException e) {
      return Optional.empty();
    }
  }

  /**
   * Acquires several keys in one canonical order (sorted), so that two callers locking overlapping
   * sets never deadlock; on failure, releases what it took.
   *
   * @throws LockTimeoutException if one of them was not granted within the (shared) timeout
   * @throws InterruptedException if interrupted; nothing is left held
   */
  public List<LockHandle> acquireAll(Collection<String> keys, LockMode mode, Duration timeout)
      throws LockTimeoutException, InterruptedException {
    TreeSet<String> sorted = new TreeSet<>(keys);
    List<LockHandle> held = new ArrayList<>(sorted.size());
    long deadline = nanoTime.getAsLong() + timeout.toNanos();
    boolean ok = false;
    try {
      for (String key : sorted) {
        long left = Math.max(0, deadline - nanoTime.getAsLong());
        held.add(acquire(LockRequest.of(key, mode).withTimeout(Duration.ofNanos(left))));
      }
      ok = true;
      return held;
    } finally {
      if (!ok) {
        held.forEach(LockHandle::release);
      }
    }
  }

  /**
   * Returns only once the handle's session has a lease, so that a handle is HELD when it is handed
   * out: a new session has one a fifth of its timeout after it started (see {@code SessionLease}).
   * Waits up to the request's deadline, and at least half the session timeout, which is no wait for
   * a holder (a {@code tryAcquire} too may wait for it).
   */
  private void awaitLease(LockHandle h, long deadline) throws LockTimeoutException {
    SessionLease l = lease;
    if (l.valid(h.session())) {
      return;
    }
    long left = Math.max(deadline - nanoTime.getAsLong(), l.negotiatedTimeout().toNanos() / 2);
    if (!l.awaitValid(h.session(), Duration.ofNanos(Math.max(left, 1_000_000_000L)))) {
      throw new LockTimeoutException(
          "lock on "
              + LockKeys.shown(h.key())
              + " was granted, but the lease of session 0x"
              + Long.toHexString(h.session())
              + " did not begin in time (the session may be ending): released",
          null);
    }
  }

  private static String newRequestId() {
    byte[] b = new byte[LockNode.ID_LENGTH / 2];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private void create(LockHandle h, long deadline)
      throws LockTimeoutException, InterruptedException {
    LockRequest r = h.request();
    String prefix = LockNode.requestPrefix(r.mode(), r.subtree(), h.requestId(), r.key());
    ensurePartition(h.partition());
    while (true) {
      checkOpen(h.key());
      ZooKeeper zk = zk();
      long session = zk.getSessionId();
      byte[] data =
          new LockData(
                  selfId,
                  incarnation.getAsLong(),
                  session,
                  r.mode(),
                  r.key(),
                  r.subtree(),
                  r.purpose(),
                  clock.getAsLong(),
                  null,
                  0)
              .encode();
      Stat stat = new Stat();
      h.attempted(prefix);
      try {
        String created =
            zk.create(
                fix(h.queue() + "/" + prefix),
                data,
                ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.EPHEMERAL_SEQUENTIAL,
                stat);
        h.created(unfix(created), stat.getCzxid(), session);
        return;
      } catch (KeeperException.NoNodeException e) {
        ensureQueue(h.queue());
        continue; // not a wait: the queue had been reaped
      } catch (KeeperException.ConnectionLossException e) {
        // The create may have happened: find it by its request id once connected again.
        awaitConnected(deadline, h.key());
        if (recover(h, prefix)) {
          return;
        }
      } catch (KeeperException.SessionExpiredException | KeeperException.SessionMovedException e) {
        awaitConnected(deadline, h.key());
      } catch (KeeperException e) {
        throw new IllegalStateException(
            "could not create a lock node under " + h.queue() + ": " + e.getMessage(), e);
      }
      if (nanoTime.getAsLong() - deadline > 0) {
        throw timeout(h, "the connection to ZooKeeper");
      }
    }
  }

  /** After a connection loss during create: adopts the node if this session made it. */
  private boolean recover(LockHandle h, String prefix) throws InterruptedException {
    try {
      long session = zk().getSessionId();
      for (String child : client.getChildren().forPath(h.queue())) {
        if (!child.startsWith(prefix)) {
          continue;
        }
        String path = h.queue() + "/" + child;
        Stat stat = client.checkExists().forPath(path);
        if (stat == null) {
          continue;
        }
        if (stat.getEphemeralOwner() == session) {
          h.created(path, stat.getCzxid(), session);
          return true;
        }
        // Made by this request in a session that has been replaced: ours, and in the way.
        client.delete().quietly().forPath(path);
      }
    } catch (KeeperException.NoNodeException e) {
      return false;
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      log.debug("recovering a lock create under {} failed: {}", h.queue(), e.toString());
    }
    return false;
  }

  private void ensurePartition(int partition) {
    if (knownPartitions.contains(partition)) {
      return;
    }
    try {
      client.create().creatingParentsIfNeeded().forPath(paths.lockPartition(partition));
    } catch (KeeperException.NodeExistsException e) {
      // made by someone else
    } catch (Exception e) {
      throw new IllegalStateException(
          "could not create " + paths.lockPartition(partition) + ": " + e, e);
    }
    knownPartitions.add(partition);
  }

  private void ensureQueue(String queue) {
    try {
      client
          .create()
          .creatingParentContainersIfNeeded()
          .withMode(CreateMode.CONTAINER)
          .forPath(queue);
    } catch (KeeperException.NodeExistsException e) {
      // made by someone else
    } catch (Exception e) {
      throw new IllegalStateException("could not create lock queue " + queue + ": " + e, e);
    }
  }

  /**
   * Waits until the request is granted by the queue and, where owners yield, by the owner.
   *
   * @return whether it had to wait
   */
  private boolean awaitGrant(LockHandle h, long deadline)
      throws LockTimeoutException, InterruptedException {
    Map<String, LockMode> overrides = new HashMap<>();
    String myName = ZKPaths.getNodeFromPath(h.path());
    boolean waited = false;
    boolean workersChecked = false;
    boolean noWorkers = false;
    long yieldWaitSince = 0;
    Wait wait = null;
    try {
      while (true) {
        checkOpen(h.key());
        if (h.session() != sessionIdOrZero()) {
          throw new IllegalStateException(
              "the ZooKeeper session ended while waiting for " + LockKeys.shown(h.key()));
        }
        wait = new Wait();
        LockQueue q;
        if (ownersYield && !workersChecked) {
          // One round trip for both reads: the queue, and whether the group has a live worker.
          Listing first = listWithWorkers(h.queue());
          q = first.queue;
          workersChecked = true;
          noWorkers = !first.workers;
        } else {
          q = list(h.queue(), null);
        }
        LockNode me = q.byName(myName);
        if (me == null) {
          throw new IllegalStateException(
              "the lock request node " + h.path() + " vanished while waiting (broken by force?)");
        }
        LockNode blocker = q.blocker(me, overrides, null);
        if (blocker != null) {
          wait.path = h.queue() + "/" + blocker.name();
          LockData data = readData(wait.path, wait);
          if (data == null) {
            continue; // gone already: list again
          }
          if (blocker.kind() == LockNode.Kind.REQUEST
              && data.mode() != blocker.mode()
              && data.mode().compatibleWith(LockQueue.mode(me, overrides))) {
            overrides.put(blocker.name(), data.mode()); // downgraded: look past it
            wait.remove();
            continue;
          }
          waited = true;
          if (!await(wait.latch, deadline)) {
            throw timeout(h, describe(blocker, data));
          }
          workersChecked = false; // read the leader latch again with the next listing
          continue;
        }
        if (!ownersYield || q.yielded(h.requestId()) || noWorkers) {
          return waited; // no live worker (read after our create): no owner acts on the key
        }
        // Wait for the partition owner's yield: a child of our queue.
        wait.path = h.queue();
        q = list(h.queue(), wait);
        if (q.yielded(h.requestId())) {
          // The child watch stays: our own release, a change of this queue, fires it.
          wait.path = null;
          return waited;
        }
        waited = true;
        if (yieldWaitSince == 0) {
          yieldWaitSince = clock.getAsLong();
        }
        if (!await(wait.latch, deadline)) {
          throw timeout(
              h,
              "the owner of partition "
                  + h.partition()
                  + " to yield the key: owner busy since "
                  + Instant.ofEpochMilli(yieldWaitSince)
                  + " (working on the key, or the partition is between owners; a live owner's"
                  + " key is never taken from it)");
        }
      }
    } finally {
      if (wait != null) {
        wait.remove();
      }
    }
  }

  /** One watch of a waiting request: wakes it, and is removed from the server if it never fired. */
  private final class Wait implements CuratorWatcher {
    final CountDownLatch latch = new CountDownLatch(1);
    volatile boolean fired;
    String path;

    @Override
    public void process(WatchedEvent e) {
      if (e.getType() != Watcher.Event.EventType.None) {
        fired = true;
        latch.countDown();
      }
    }

    void remove() {
      if (path != null && !fired) {
        removeWatch(this, path);
      }
      path = null;
    }
  }

  /** A queue's listing, and whether the group's leader latch has a member (a live worker). */
  private record Listing(LockQueue queue, boolean workers) {}

  private Listing listWithWorkers(String queue) throws InterruptedException {
    try {
      List<OpResult> results =
          zk().multi(List.of(Op.getChildren(fix(queue)), Op.getChildren(fix(paths.leader()))));
      List<String> children = children(results.get(0));
      List<String> latch = children(results.get(1));
      return new Listing(LockQueue.of(children), !latch.isEmpty());
    } catch (KeeperException | RuntimeException e) {
      // Connection trouble: the two reads one by one, with Curator's retries.
      return new Listing(list(queue, null), workersPresent());
    }
  }

  private static List<String> children(OpResult r) {
    if (r instanceof OpResult.GetChildrenResult c) {
      return c.getChildren();
    }
    if (r instanceof OpResult.ErrorResult err
        && err.getErr() == KeeperException.Code.NONODE.intValue()) {
      return List.of();
    }
    throw new IllegalStateException("unexpected multi-read result " + r);
  }

  private boolean workersPresent() {
    try {
      return !client.getChildren().forPath(paths.leader()).isEmpty();
    } catch (KeeperException.NoNodeException e) {
      return false;
    } catch (Exception e) {
      throw new IllegalStateException("could not list " + paths.leader() + ": " + e, e);
    }
  }

  private boolean await(CountDownLatch wake, long deadline) throws InterruptedException {
    long left = deadline - nanoTime.getAsLong();
    if (left <= 0) {
      return false;
    }
    waiting.add(wake);
    try {
      return wake.await(left, TimeUnit.NANOSECONDS);
    } finally {
      waiting.remove(wake);
    }
  }

  private void removeWatch(CuratorWatcher watcher, String path) {
    try {
      client
          .watchers()
          .remove(watcher)
          .ofType(Watcher.WatcherType.Any)
          .quietly()
          .inBackground()
          .forPath(path);
    } catch (Exception e) {
      log.debug("could not remove a watch on {}: {}", path, e.toString());
    }
  }

  private LockTimeoutException timeout(LockHandle h, String blocker) {
    return new LockTimeoutException(
        "lock on "
            + LockKeys.shown(h.key())
            + " ("
            + h.request().mode().wireName()
            + ") not granted within "
            + h.request().timeout()
            + ": waiting for "
            + blocker,
        blocker);
  }

  private String describe(LockNode node, LockData data) {
    if (data == null) {
      return node.name();
    }
    return "holder "
        + data.member()
        + " ("
        + data.mode().wireName()
        + (data.purpose().isEmpty() ? "" : ", '" + data.purpose() + "'")
        + ", since "
        + Instant.ofEpochMilli(data.since())
        + ")";
  }

  /** Lists a queue, with an optional watch; an absent queue is empty. */
  private LockQueue list(String queue, CuratorWatcher watcher) {
    try {
      List<String> children =
          watcher == null
              ? client.getChildren().forPath(queue)
              : client.getChildren().usingWatcher(watcher).forPath(queue);
      return LockQueue.of(children);
    } catch (KeeperException.NoNodeException e) {
      return LockQueue.of(List.of());
    } catch (Exception e) {
      throw new IllegalStateException("could not list lock queue " + queue + ": " + e, e);
    }
  }

  /** Reads a lock node's data with a watch; null when the node is gone, a stub when corrupt. */
  private LockData readData(String path, CuratorWatcher watcher) {
    byte[] data;
    try {
      data = client.getData().usingWatcher(watcher).forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return null;
    } catch (Exception e) {
      throw new IllegalStateException("could not read lock node " + path + ": " + e, e);
    }
    try {
      return LockData.decode(path, data);
    } catch (IllegalArgumentException e) {
      log.warn("{}", e.getMessage());
      LockNode n = LockNode.parse(ZKPaths.getNodeFromPath(path));
      LockMode mode = n == null || n.mode() == null ? LockMode.EXCLUSIVE : n.mode();
      return new LockData("?", 0, 0, mode, n == null ? "?" : n.key(), false, "", 0, null, 0);
    }
  }

  // ---------------------------------------------------------------- holding

  /**
   * The mailbox: one persistent watch per service instead of one watch per held lock. Whoever
   * breaks a lock or asks for it back pokes the holder's mailbox; the holder then checks its holds.
   */
  private void watchMail() {
    if (lifecycle.isClosed()) {
      return;
    }
    try {
      client
          .watchers()
          .add()
          .withMode(AddWatchMode.PERSISTENT)
          .usingWatcher(mailWatcher)
          .forPath(paths.lockMail(selfId));
    } catch (Exception e) {
      log.warn("could not watch {}; retrying: {}", paths.lockMail(selfId), e.toString());
      try {
        events.schedule(this::watchMail, 200, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException closed) {
        // closing
      }
    }
  }

  private void checkHolds() {
    List<LockHandle> held = new ArrayList<>();
    for (LockHandle h : active) {
      LockState st = h.state();
      if (st == LockState.HELD || st == LockState.SUSPENDED) {
        held.add(h);
      }
    }
    if (held.isEmpty()) {
      return;
    }
    List<Op> reads = new ArrayList<>(held.size());
    for (LockHandle h : held) {
      reads.add(Op.getData(fix(h.path())));
    }
    List<OpResult> results;
    try {
      results = zk().multi(reads); // one round trip for every hold
    } catch (Exception e) {
      log.debug("could not check the holds of {}: {}", selfId, e.toString());
      return; // the reconnect or the next poke checks again
    }
    for (int i = 0; i < held.size(); i++) {
      LockHandle h = held.get(i);
      OpResult r = results.get(i);
      if (r instanceof OpResult.GetDataResult d) {
        try {
          LockData data = LockData.decode(h.path(), d.getData());
          if (data.revokeBy() != null) {
            h.revokeRequested(data.revokeAt());
          }
        } catch (IllegalArgumentException e) {
          log.warn("{}", e.getMessage());
        }
      } else if (r instanceof OpResult.ErrorResult err
          && err.getErr() == KeeperException.Code.NONODE.intValue()) {
        h.lose("its node was deleted: broken by force");
      }
    }
  }

  /** Tells a member to check its holds. */
  private void poke(String member) {
    String mail = paths.lockMail(member);
    byte[] data = Long.toString(clock.getAsLong()).getBytes(StandardCharsets.UTF_8);
    try {
      try {
        client.setData().forPath(mail, data);
      } catch (KeeperException.NoNodeException e) {
        client.create().creatingParentsIfNeeded().forPath(mail, data);
      }
    } catch (KeeperException.NodeExistsException e) {
      poke(member);
    } catch (Exception e) {
      log.warn("could not tell {} about its lock: {}", member, e.toString());
    }
  }

  private void stateChanged(ConnectionState s) {
    switch (s) {
      case SUSPENDED -> active.forEach(LockHandle::suspend);
      case LOST -> {
        for (LockHandle h : active) {
          h.lose("the ZooKeeper session was lost");
        }
        // Requests waiting on watches of the dead session would sleep until their timeouts:
        // wake them; each sees its session gone and fails, naming it.
        waiting.forEach(CountDownLatch::countDown);
      }
      case RECONNECTED, CONNECTED -> {
        if (lifecycle.isClosed()) {
          return;
        }
        watchMail(); // a new session has no watches; the same session keeps it (no harm)
        for (LockHandle h : active) {
          if (h.state() == LockState.SUSPENDED) {
            verify(h);
          }
        }
        checkHolds(); // a break or a revoke request may have come while we were away
      }
      default -> {}
    }
  }

  /** After a reconnect: HELD again only if the node still exists in the same session. */
  private void verify(LockHandle h) {
    try {
      long session = zk().getSessionId();
      Stat stat = client.checkExists().forPath(h.path());
      if (stat != null && stat.getEphemeralOwner() == h.session() && session == h.session()) {
        h.resume();
      } else {
        h.lose(
            stat == null
                ? "its node is gone after a reconnect"
                : "the session was replaced during the disconnection");
      }
    } catch (Exception e) {
      log.debug("could not verify {}: {}", h.path(), e.toString());
    }
  }

  void lostHold(LockHandle h) {
    metrics.lost.inc();
    active.remove(h);
  }

  /** The work of {@link LockHandle#release()}, after the handle moved to RELEASED. */
  ReleaseOutcome released(LockHandle h, LockState before) {
    active.remove(h);
    if (before == LockState.LOST) {
      return ReleaseOutcome.ALREADY_LOST;
    }
    String path = h.path();
    if (path == null) {
      return ReleaseOutcome.RELEASED;
    }
    try {
      ZooKeeper zk = zk();
      if (zk.getSessionId() != h.session()) {
        return ReleaseOutcome.ALREADY_LOST; // its node went, or goes, with its session
      }
      if (!client.getZookeeperClient().isConnected()) {
        deleteLater(h, 0);
        return ReleaseOutcome.PENDING;
      }
      deleteNow(zk, h);
      return ReleaseOutcome.RELEASED;
    } catch (KeeperException.NoNodeException e) {
      return ReleaseOutcome.RELEASED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      deleteLater(h, 0);
      return ReleaseOutcome.PENDING;
    } catch (Exception e) {
      deleteLater(h, 0);
      return ReleaseOutcome.PENDING;
    }
  }

  /** One attempt, no retries: the upgrade node and its base together. */
  private void deleteNow(ZooKeeper zk, LockHandle h) throws KeeperException, InterruptedException {
    String upgrade = h.upgradePath();
    if (upgrade != null) {
      try {
        zk.multi(List.of(Op.delete(fix(upgrade), -1), Op.delete(fix(h.path()), -1)));
        return;
      } catch (KeeperException.NoNodeException e) {
        // one of them is gone already: delete the other alone
      }
      try {
        zk.delete(fix(upgrade), -1);
      } catch (KeeperException.NoNodeException e) {
        // gone
      }
    }
    zk.delete(fix(h.path()), -1);
  }

  /** Deletes the handle's node in the background, in its own session only. */
  private void deleteLater(LockHandle h, int attempt) {
    Runnable task =
        () -> {
          try {
            ZooKeeper zk = zk();
            if (zk.getSessionId() != h.session()) {
              return; // the session is gone: so is the node, or it will be
            }
            deleteNow(zk, h);
          } catch (KeeperException.NoNodeException e) {
            // done
          } catch (Exception e) {
            if (attempt < 600 && !events.isShutdown()) {
              deleteLater(h, attempt + 1);
            } else {
              log.warn("gave up deleting lock node {}: {}", h.path(), e.toString());
            }
          }
        };
    try {
      if (attempt == 0) {
        events.execute(task);
      } else {
        events.schedule(task, Math.min(1000, 10L * attempt), TimeUnit.MILLISECONDS);
      }
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  /** Gives up a request that was not granted: its node, if any, goes. */
  private void abandon(LockHandle h) {
    h.release(); // an interrupted delete falls back to the background one
    if (h.path() == null && h.attemptedPrefix() != null) {
      // A create whose reply never came may still have made a node: find it by its request id.
      deleteByPrefixLater(h.queue(), h.attemptedPrefix(), 0);
    }
  }

  /** Deletes, in the background, every child of a queue whose name starts with an id of ours. */
  private void deleteByPrefixLater(String queue, String prefix, int attempt) {
    Runnable task =
        () -> {
          try {
            for (String child : client.getChildren().forPath(queue)) {
              if (child.startsWith(prefix)) {
                client.delete().quietly().forPath(queue + "/" + child);
              }
            }
          } catch (KeeperException.NoNodeException e) {
            // the queue is gone, and with it anything of ours
          } catch (Exception e) {
            if (attempt < 300 && !events.isShutdown()) {
              deleteByPrefixLater(queue, prefix, attempt + 1);
            } else {
              log.warn(
                  "gave up looking for lock nodes {}* under {}: {}", prefix, queue, e.toString());
            }
          }
        };
    try {
      events.schedule(
          task, attempt == 0 ? 0 : Math.min(1000, 10L * attempt), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  /** Returns whether a request id is one of this service's own live requests. */
  boolean ownRequest(String requestId) {
    for (LockHandle h : active) {
      if (h.requestId().equals(requestId)) {
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- upgrade and downgrade

  void upgrade(LockHandle h, Duration timeout) throws LockException, InterruptedException {
    h.ensureValid();
    if (h.mode() == LockMode.EXCLUSIVE) {
      throw new IllegalStateException(LockKeys.shown(h.key()) + " is held EXCLUSIVE already");
    }
    boolean fromShared = h.mode() == LockMode.SHARED;
    long deadline = nanoTime.getAsLong() + timeout.toNanos();
    String upgradePath;
    String upgradeRequest = newRequestId();
    String upgradePrefix = LockNode.upgradePrefix(h.requestId(), upgradeRequest);
    try {
      upgradePath =
          unfix(
              zk().create(
                      fix(h.queue() + "/" + upgradePrefix),
                      new byte[0],
                      ZooDefs.Ids.OPEN_ACL_UNSAFE,
                      CreateMode.EPHEMERAL_SEQUENTIAL));
    } catch (KeeperException | InterruptedException e) {
      // The create may have happened without its reply: an upgrade node left behind would stand
      // in our place as EXCLUSIVE, so find it by its id and delete it.
      deleteByPrefixLater(h.queue(), upgradePrefix, 0);
      if (e instanceof InterruptedException) {
        throw (InterruptedException) e;
      }
      throw new IllegalStateException(
          "could not request an upgrade of " + LockKeys.shown(h.key()) + ": " + e, e);
    }
    boolean done = false;
    Wait wait = null;
    try {
      while (true) {
        wait = new Wait();
        LockQueue q = list(h.queue(), null);
        LockNode base = q.request(h.requestId());
        if (base == null) {
          throw new LockLostException(
              "lock on " + LockKeys.shown(h.key()) + " was lost during its upgrade");
        }
        Map<String, LockMode> modes = realModes(q, h.queue());
        LockNode blocker = q.upgradeBlocker(base, modes);
        if (blocker == null) {
          h.upgraded(upgradePath);
          done = true;
          return;
        }
        wait.path = h.queue() + "/" + blocker.name();
        LockData data = blocker.kind() == LockNode.Kind.REQUEST ? readData(wait.path, wait) : null;
        String who =
            data != null ? describe(blocker, data) : "another upgrade (" + blocker.name() + ")";
        if (fromShared || timeout.isZero()) {
          throw new UpgradeConflictException(
              "cannot upgrade "
                  + LockKeys.shown(h.key())
                  + " to exclusive now: in the way is "
                  + who,
              who);
        }
        if (blocker.kind() == LockNode.Kind.REQUEST && data == null) {
          continue; // gone: list again
        }
        if (blocker.kind() != LockNode.Kind.REQUEST
            && client.checkExists().usingWatcher(wait).forPath(wait.path) == null) {
          continue; // gone: list again (the exists watch is removed in finally)
        }
        if (!await(wait.latch, deadline)) {
          throw new LockTimeoutException(
              "upgrade of "
                  + LockKeys.shown(h.key())
                  + " not granted within "
                  + timeout
                  + ": waiting for "
                  + who,
              who);
        }
      }
    } catch (LockException | RuntimeException | InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("upgrade of " + LockKeys.shown(h.key()) + " failed: " + e, e);
    } finally {
      if (wait != null) {
        wait.remove();
      }
      if (!done) {
        try {
          client.delete().quietly().forPath(upgradePath);
        } catch (Exception e) {
          log.debug("could not delete upgrade node {}: {}", upgradePath, e.toString());
          deleteByPrefixLater(h.queue(), upgradePrefix, 0);
        }
      }
    }
  }

  /** The real modes of requests named X or U: a downgrade may have lowered them. */
  private Map<String, LockMode> realModes(LockQueue q, String queue) {
    Map<String, LockMode> modes = new HashMap<>();
    for (LockNode n : q.requests()) {
      if (n.mode() == LockMode.SHARED) {
        continue;
      }
      try {
        byte[] data = client.getData().forPath(queue + "/" + n.name());
        modes.put(n.name(), LockData.decode(queue + "/" + n.name(), data).mode());
      } catch (KeeperException.NoNodeException e) {
        // gone: the listing is a little stale, which only makes us wait
      } catch (IllegalArgumentException e) {
        log.warn("{}", e.getMessage());
      } catch (Exception e) {
        throw new IllegalStateException("could not read " + queue + "/" + n.name() + ": " + e, e);
      }
    }
    return modes;
  }

  void downgrade(LockHandle h, LockMode target) {
    h.ensureValid();
    LockMode now = h.mode();
    if (now != LockMode.EXCLUSIVE || target == LockMode.EXCLUSIVE) {
      throw new IllegalArgumentException(
          "a downgrade goes from exclusive to shared or upgradable; "
              + LockKeys.shown(h.key())
              + " is held "
              + now.wireName()
              + " and the target is "
              + target.wireName());
    }
    String upgrade = h.upgradePath();
    // Upgraded: dropping the upgrade node returns to the base's mode.
    boolean dropUpgradeOnly = upgrade != null && target == h.baseMode();
    if (upgrade != null && !dropUpgradeOnly && target != LockMode.SHARED) {
      throw new IllegalArgumentException(
          "a hold upgraded from shared downgrades to shared only: raising its base to"
              + " upgradable could make two upgradable holders of "
              + LockKeys.shown(h.key()));
    }
    for (int attempt = 1; ; attempt++) {
      try {
        if (dropUpgradeOnly) {
          client.delete().forPath(upgrade);
        } else {
          rewriteMode(h, target, upgrade);
        }
        h.downgraded(target);
        return;
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        // The write may have been applied with its reply lost: Curator's retry of it then fails
        // (BadVersion, or NoNode for the upgrade node). Ask the server what it holds now.
        Boolean applied = e instanceof InterruptedException ? null : downgradeApplied(h, target);
        if (Boolean.TRUE.equals(applied)) {
          h.downgraded(target);
          return;
        }
        if (applied == null) {
          // Unknown: claim the lower mode, which is never more than the server grants us.
          h.downgraded(target);
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          throw new IllegalStateException(
              "downgrade of "
                  + LockKeys.shown(h.key())
                  + " may not have reached the server ("
                  + e
                  + "): the handle holds "
                  + target.wireName()
                  + " from now on, the server may still hold it exclusive until release",
              e);
        }
        // Not applied (e.g. a revoke request rewrote our node meanwhile): write again.
        if (attempt >= 3) {
          throw new IllegalStateException(
              "downgrade of " + LockKeys.shown(h.key()) + " failed: " + e, e);
        }
      }
    }
  }

  /**
   * Reads in the handle's session whether the server holds {@code h} at {@code target} (its node
   * says so and its upgrade node, if any, is gone); null when it cannot tell.
   */
  private Boolean downgradeApplied(LockHandle h, LockMode target) {
    try {
      Stat stat = new Stat();
      byte[] raw = client.getData().storingStatIn(stat).forPath(h.path());
      String upgrade = h.upgradePath();
      return stat.getEphemeralOwner() == h.session()
          && LockData.decode(h.path(), raw).mode() == target
          && (upgrade == null || client.checkExists().forPath(upgrade) == null);
    } catch (KeeperException.NoNodeException e) {
      return false; // our node is gone: the hold is lost, and the session follower says so
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      log.debug("could not read back the downgrade of {}: {}", h.path(), e.toString());
      return null;
    }
  }

  private void rewriteMode(LockHandle h, LockMode target, String alsoDelete) throws Exception {
    Stat stat = new Stat();
    byte[] raw = client.getData().storingStatIn(stat).forPath(h.path());
    byte[] next = LockData.decode(h.path(), raw).withMode(target).encode();
    if (alsoDelete == null) {
      client.setData().withVersion(stat.getVersion()).forPath(h.path(), next);
    } else {
      client
          .transaction()
          .forOperations(
              client
                  .transactionOp()
                  .setData()
                  .withVersion(stat.getVersion())
                  .forPath(h.path(), next),
              client.transactionOp().delete().forPath(alsoDelete));
    }
  }

  // ---------------------------------------------------------------- introspection and breaking

  /**
   * Lists the holders and waiters of one key, including subtree locks that cover it.
   *
   * @throws IllegalArgumentException if the key is not a valid key
   */
  public KeyLockState inspect(String key) {
    requireStarted("inspect");
    LockKeys.check(key);
    int partition = partitioner.partition(key);
    String queue =
        paths.lockPartition(partition)
            + "/"
            + LockKeys.encode(key.substring(0, router.routingKeyEnd(key)));
    List<LockInfo> holders = new ArrayList<>();
    List<LockInfo> waiters = new ArrayList<>();
    for (LockInfo info : queueInfo(partition, queue)) {
      if (LockKeys.overlap(info.key(), info.subtree(), key, false)) {
        (info.holding() ? holders : waiters).add(info);
      }
    }
    return new KeyLockState(key, partition, holders, waiters);
  }

  /**
   * Lists every lock of the group, by key (sorted). Nodes whose data is unreadable are listed with
   * a {@link LockInfo#problem()}; they never make the listing fail.
   */
  public List<KeyLockState> inspectAll() {
    requireStarted("inspectAll");
    Map<String, List<LockInfo>> byKey = new TreeMap<>();
    Map<String, Integer> partitionOf = new HashMap<>();
    List<String> partitions;
    try {
      partitions = client.getChildren().forPath(paths.locks());
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    } catch (Exception e) {
      throw new IllegalStateException("could not list " + paths.locks() + ": " + e, e);
    }
    for (String p : partitions) {
      int partition;
      try {
        partition = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        log.warn("ignoring {}/{}: not a partition", paths.locks(), p);
        continue;
      }
      List<String> queues;
      try {
        queues = client.getChildren().forPath(paths.lockPartition(partition));
      } catch (KeeperException.NoNodeException e) {
        continue;
      } catch (Exception e) {
        throw new IllegalStateException("could not list partition " + p + ": " + e, e);
      }
      for (String queue : queues) {
        for (LockInfo info : queueInfo(partition, paths.lockPartition(partition) + "/" + queue)) {
          byKey.computeIfAbsent(info.key(), k -> new ArrayList<>()).add(info);
          partitionOf.put(info.key(), partition);
        }
      }
    }
    List<KeyLockState> out = new ArrayList<>();
    for (Map.Entry<String, List<LockInfo>> e : byKey.entrySet()) {
      List<LockInfo> holders = e.getValue().stream().filter(LockInfo::holding).toList();
      List<LockInfo> waiters = e.getValue().stream().filter(i -> !i.holding()).toList();
      out.add(new KeyLockState(e.getKey(), partitionOf.get(e.getKey()), holders, waiters));
    }
    return out;
  }

  private List<LockInfo> queueInfo(int partition, String queue) {
    LockQueue q = list(queue, null);
    Map<String, LockData> data = new HashMap<>();
    Map<String, Long> czxid = new HashMap<>();
    Map<String, String> problems = new HashMap<>();
    Map<String, LockMode> modes = new HashMap<>();
    List<LockNode> requests = q.requests();
    // Every node of the queue in one round trip (a multi of reads), one by one if that fails.
    List<OpResult> results = null;
    if (!requests.isEmpty()) {
      List<Op> reads = new ArrayList<>(requests.size());
      for (LockNode n : requests) {
        reads.add(Op.getData(fix(queue + "/" + n.name())));
      }
      try {
        results = zk().multi(reads);
      } catch (Exception e) {
        results = null;
      }
    }
    for (int i = 0; i < requests.size(); i++) {
      LockNode n = requests.get(i);
      String path = queue + "/" + n.name();
      byte[] raw;
      Stat stat;
      if (results != null) {
        OpResult r = results.get(i);
        if (!(r instanceof OpResult.GetDataResult got)) {
          problems.put(n.name(), "released while being listed");
          continue;
        }
        raw = got.getData();
        stat = got.getStat();
      } else {
        stat = new Stat();
        try {
          raw = client.getData().storingStatIn(stat).forPath(path);
        } catch (KeeperException.NoNodeException e) {
          problems.put(n.name(), "released while being listed");
          continue;
        } catch (Exception e) {
          throw new IllegalStateException("could not read " + path + ": " + e, e);
        }
      }
      czxid.put(n.name(), stat.getCzxid());
      try {
        LockData d = LockData.decode(path, raw);
        data.put(n.name(), d);
        modes.put(n.name(), d.mode());
      } catch (IllegalArgumentException e) {
        problems.put(n.name(), e.getMessage());
      }
    }
    // A request the queue grants still waits for the owner's yield where the group has owners.
    boolean owners = ownersYield && !requests.isEmpty() && workersPresent();
    List<LockInfo> out = new ArrayList<>();
    for (LockNode n : q.requests()) {
      LockData d = data.get(n.name());
      boolean upgraded = false;
      for (LockNode u : q.upgrades()) {
        if (n.request().equals(u.base()) && q.upgradeGranted(u, modes)) {
          upgraded = true;
        }
      }
      boolean queueGranted = q.holds(n, modes);
      boolean holding = queueGranted && (!owners || q.yielded(n.request()));
      String waitingFor = null;
      if (!holding) {
        LockNode b = q.blocker(n, modes, null);
        if (b == null) {
          waitingFor = "the owner's yield";
        } else {
          LockData bd = data.get(b.name());
          waitingFor =
              bd == null
                  ? b.name()
                  : bd.member() + " (" + LockQueue.mode(b, modes).wireName() + ")";
        }
      }
      out.add(
          new LockInfo(
              n.key(),
              n.subtree(),
              partition,
              d == null ? "?" : d.member(),
              d == null ? 0 : d.incarnation(),
              upgraded ? LockMode.EXCLUSIVE : d == null ? n.mode() : d.mode(),
              czxid.getOrDefault(n.name(), 0L),
              d == null ? 0 : d.since(),
              d == null ? "" : d.purpose(),
              holding,
              queue + "/" + n.name(),
              d == null ? null : d.revokeBy(),
              problems.get(n.name()),
              waitingFor));
    }
    return out;
  }

  /**
   * Breaks every lock held on a key (and its upgrade nodes), live holders included. Their holders
   * see LOST; a fenced store turns their later writes away, since every later holder's token is
   * larger. Waiters are left alone. The break is recorded in ZooKeeper (who, when, which holders;
   * see {@link #breaks()}).
   *
   * @param force must be true: breaking a live holder is an operator's decision
   * @return how many lock nodes were deleted
   * @throws IllegalArgumentException if {@code force} is false
   */
  public int breakLock(String key, boolean force) {
    requireStarted("breakLock");
    if (!force) {
      throw new IllegalArgumentException(
          "breaking the lock on "
              + LockKeys.shown(key)
              + " needs force: its holder may be alive and acting (it is fenced by every later"
              + " token); ask it with requestRevoke first");
    }
    int broken = 0;
    Set<String> told = new HashSet<>();
    List<LockBreak.Holder> deleted = new ArrayList<>();
    for (LockInfo info : inspect(key).holders()) {
      try {
        client.delete().forPath(info.path());
        if (told.add(info.member())) {
          poke(info.member());
        }
        broken++;
        deleted.add(
            new LockBreak.Holder(
                info.member(), info.mode(), info.token(), info.since(), info.purpose()));
        metrics.breaks.inc();
        log.warn(
            "member {} broke the lock of {} on {} ({}, token {}, purpose '{}')",
            selfId,
            info.member(),
            LockKeys.shown(info.key()),
            info.mode().wireName(),
            info.token(),
            info.purpose());
      } catch (KeeperException.NoNodeException e) {
        // released meanwhile
      } catch (Exception e) {
        throw new IllegalStateException("could not break " + info.path() + ": " + e, e);
      }
    }
    if (!deleted.isEmpty()) {
      try {
        LockBreaks.record(
            client, paths, new LockBreak(key, selfId, System.currentTimeMillis(), deleted));
      } catch (Exception e) {
        log.warn("broke the lock on {} but could not record the break: {}", LockKeys.shown(key), e);
      }
    }
    return broken;
  }

  /**
   * Returns the group's records of forced breaks ({@link #breakLock}), newest first: who broke
   * which holders of which key, and when. Bounded: the newest {@link LockBreak#KEPT}, none older
   * than {@link LockBreak#MAX_AGE_MILLIS}.
   *
   * @throws IllegalStateException if not started, or ZooKeeper cannot be read
   */
  public List<LockBreak> breaks() {
    requireStarted("breaks");
    try {
      return LockBreaks.read(client, paths);
    } catch (Exception e) {
      throw new IllegalStateException("could not read " + paths.lockBreaks() + ": " + e, e);
    }
  }

  /**
   * Asks the holders of a key to give it up: their {@link LockHandle#onRevokeRequested} callbacks
   * run; whether they release is up to them.
   *
   * @return how many holders were asked
   */
  public int requestRevoke(String key, String by) {
    requireStarted("requestRevoke");
    int asked = 0;
    for (LockInfo info : inspect(key).holders()) {
      try {
        Stat stat = new Stat();
        byte[] raw = client.getData().storingStatIn(stat).forPath(info.path());
        byte[] next = LockData.decode(info.path(), raw).withRevoke(by, clock.getAsLong()).encode();
        client.setData().withVersion(stat.getVersion()).forPath(info.path(), next);
        poke(info.member());
        asked++;
      } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
        // released or changed meanwhile
      } catch (IllegalArgumentException e) {
        log.warn("cannot ask {} to give up its lock: {}", info.path(), e.getMessage());
      } catch (Exception e) {
        throw new IllegalStateException("could not ask " + info.path() + ": " + e, e);
      }
    }
    return asked;
  }

  // ---------------------------------------------------------------- owner side

  /**
   * Returns the owner side for a member that owns partitions: its fast path and its yields. Made
   * once, by the rebalancer.
   *
   * @throws IllegalStateException if not started, or asked twice
   */
  public synchronized PartitionGuards partitionGuards() {
    requireStarted("partitionGuards");
    if (guards != null) {
      throw new IllegalStateException("partitionGuards() was already made for " + selfId);
    }
    guards = new PartitionGuards(this, partitioner, paths, metrics);
    return guards;
  }

  // ---------------------------------------------------------------- lifecycle and plumbing

  /** Returns this member's id. */
  public String memberId() {
    return selfId;
  }

  /** Returns the group's name. */
  public String group() {
    return group;
  }

  /** Returns the partition of a key, by the group's partition count and this router. */
  public int partition(String key) {
    requireStarted("partition");
    return partitioner.partition(key);
  }

  /** Returns the number of partitions in use. */
  public int partitions() {
    requireStarted("partitions");
    return partitioner.partitions();
  }

  /** Returns the locks this service holds or requests now. */
  public List<LockHandle> handles() {
    return List.copyOf(active);
  }

  /**
   * Releases every lock this service holds, wakes every waiting request (which fails), and stops.
   * Idempotent; throws nothing. The Curator client is the caller's and stays open.
   */
  @Override
  public void close() {
    if (!lifecycle.close()) {
      return;
    }
    PartitionGuards g = guards;
    if (g != null) {
      g.close();
    }
    SessionLease l = lease;
    if (l != null) {
      l.release();
    }
    waiting.forEach(CountDownLatch::countDown);
    for (LockHandle h : List.copyOf(active)) {
      if (h.state() != LockState.ACQUIRING) {
        h.release();
      }
    }
    client.getConnectionStateListenable().removeListener(connectionListener);
    // removeAll reaches the server (removing one watcher object only forgets it locally); now, or
    // once the connection is back in this session (a caller's client outlives this service).
    String mail = paths.lockMail(selfId);
    Membership.whenConnected(
        client,
        sessionIdOrZero(),
        c -> {
          try {
            c.watchers().removeAll().ofType(Watcher.WatcherType.Any).quietly().forPath(mail);
            return true;
          } catch (Exception e) {
            log.debug("could not remove the watch of {} now: {}", mail, e.toString());
            return false;
          }
        });
    events.shutdown();
    try {
      if (!events.awaitTermination(5, TimeUnit.SECONDS)) {
        events.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      events.shutdownNow();
    }
    metrics.close();
  }

  void runGuarded(Runnable call, String what, String key) {
    try {
      call.run();
    } catch (RuntimeException | Error e) {
      log.error("{} callback of the lock on {} threw; ignored", what, LockKeys.shown(key), e);
    }
  }

  boolean submit(Runnable task) {
    try {
      events.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      log.debug("lock event dropped after close");
      return false;
    }
  }

  ScheduledExecutorService events() {
    return events;
  }

  CuratorFramework client() {
    return client;
  }

  LongSupplier clock() {
    return clock;
  }

  boolean isClosed() {
    return lifecycle.isClosed();
  }

  ZooKeeper zk() {
    try {
      return client.getZookeeperClient().getZooKeeper();
    } catch (Exception e) {
      throw new IllegalStateException("no ZooKeeper handle: " + e, e);
    }
  }

  long sessionIdOrZero() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return 0;
    }
  }

  String fix(String path) {
    return ZKPaths.fixForNamespace(client.getNamespace(), path);
  }

  String unfix(String path) {
    String ns = client.getNamespace();
    return ns == null || ns.isEmpty() ? path : path.substring(ns.length() + 1);
  }

  private void awaitConnected(long deadline, String key)
      throws InterruptedException, LockTimeoutException {
    long left = deadline - nanoTime.getAsLong();
    if (left <= 0
        || !client.blockUntilConnected(
            (int) Math.max(1, left / 1_000_000), TimeUnit.MILLISECONDS)) {
      throw new LockTimeoutException(
          "lock on " + LockKeys.shown(key) + ": no connection to ZooKeeper before the deadline",
          "the connection to ZooKeeper");
    }
  }

  private void checkOpen(String key) {
    if (lifecycle.isClosed()) {
      throw new IllegalStateException(
          "lock service of " + selfId + " closed while acquiring " + LockKeys.shown(key));
    }
  }

  private void requireStarted(String what) {
    if (lifecycle.state() != Lifecycle.State.STARTED) {
      throw new IllegalStateException(
          what + "() needs a started lock service; " + selfId + " is " + lifecycle.state());
    }
  }

  /** Builds a {@link KeyLocks}. Every setter validates at once and may be called once. */
  public static final class Builder {
    private CuratorFramework client;
    private String namespace;
    private String group;
    private String memberId;
    private int partitions = -1;
    private KeyRouter router;
    private MetricRegistry metrics;
    private LongSupplier incarnation;
    private LongSupplier clock;
    private LongSupplier nanoTime;

    private Builder() {}

    /** The started Curator client to use (required); it stays the caller's to close. */
    public Builder client(CuratorFramework curator) {
      requireUnset(client, "client");
      this.client = Objects.requireNonNull(curator, "client");
      return this;
    }

    /** The namespace, {@value #DEFAULT_NAMESPACE} by default. */
    public Builder namespace(String path) {
      requireUnset(namespace, "namespace");
      this.namespace = Membership.checkNamespace(path);
      return this;
    }

    /** The group (required). */
    public Builder group(String name) {
      requireUnset(group, "group");
      this.group = Membership.checkGroup(name);
      return this;
    }

    /** This member's id, recorded in its lock nodes (required). */
    public Builder memberId(String id) {
      requireUnset(memberId, "memberId");
      Member.checkId(id);
      this.memberId = id;
      return this;
    }

    /**
     * The partition count: by default the group config's, or {@value #DEFAULT_PARTITIONS} when the
     * group has none. It must match the group config's when both exist.
     */
    public Builder partitions(int count) {
      if (partitions != -1) {
        throw new IllegalStateException("partitions was already set to " + partitions);
      }
      Partitioner.checkPartitions(count);
      this.partitions = count;
      return this;
    }

    /** The key router, the rebalancer's; {@link KeyRouter#wholeKey()} by default. */
    public Builder router(KeyRouter keyRouter) {
      requireUnset(router, "router");
      this.router = Objects.requireNonNull(keyRouter, "router");
      return this;
    }

    /** The registry for metrics; a private one by default. */
    public Builder metrics(MetricRegistry registry) {
      requireUnset(metrics, "metrics");
      this.metrics = Objects.requireNonNull(registry, "metrics");
      return this;
    }

    /** The holder's incarnation recorded in lock nodes; the session id by default. */
    public Builder incarnation(LongSupplier supplier) {
      requireUnset(incarnation, "incarnation");
      this.incarnation = Objects.requireNonNull(supplier, "incarnation");
      return this;
    }

    /** The wall clock in epoch milliseconds, for "since" (tests inject one). */
    public Builder clock(LongSupplier millis) {
      requireUnset(clock, "clock");
      this.clock = Objects.requireNonNull(millis, "clock");
      return this;
    }

    /** The monotonic clock in nanoseconds, for timeouts (tests inject one). */
    public Builder nanoTime(LongSupplier nanos) {
      requireUnset(nanoTime, "nanoTime");
      this.nanoTime = Objects.requireNonNull(nanos, "nanoTime");
      return this;
    }

    /**
     * Builds the service (not started).
     *
     * @throws IllegalStateException naming the missing setting
     */
    public KeyLocks build() {
      if (client == null) {
        throw new IllegalStateException("client is required");
      }
      if (group == null) {
        throw new IllegalStateException("group is required");
      }
      if (memberId == null) {
        throw new IllegalStateException("memberId is required");
      }
      namespace = namespace == null ? DEFAULT_NAMESPACE : namespace;
      router = router == null ? KeyRouter.wholeKey() : router;
      metrics = metrics == null ? new MetricRegistry() : metrics;
      clock = clock == null ? System::currentTimeMillis : clock;
      nanoTime = nanoTime == null ? System::nanoTime : nanoTime;
      return new KeyLocks(this);
    }

    private static void requireUnset(Object value, String what) {
      if (value != null) {
        throw new IllegalStateException(what + " was already set to " + value);
      }
    }
  }
}
