package io.ringwork.lock;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.Lifecycle;
import io.ringwork.membership.SessionLease;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.membership.internal.ListenerGuard;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Partitioner;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the parts of one lock service share: its settings, its lifecycle and event thread, its
 * session lease, the handles it holds or requests, and the reads every part makes (a queue's
 * listing, a node's data). It decides nothing; {@link Acquisition}, {@link Holds}, {@link Upgrades}
 * and {@link LockAdmin} do, and {@link KeyLocks} wires them.
 */
final class LockCore {

  private static final Logger log = LoggerFactory.getLogger(LockCore.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  final CuratorFramework client;
  final GroupPaths paths;
  final String group;
  final String selfId;
  final KeyRouter router;
  final LongSupplier incarnation;
  final LongSupplier clock;
  final LongSupplier nanoTime;
  final LockMetrics metrics;
  final ScheduledExecutorService events;
  final Lifecycle lifecycle = new Lifecycle();

  /** The handles this service holds or requests. */
  final Set<LockHandle> active = ConcurrentHashMap.newKeySet();

  /** The latches of requests waiting on a watch: a lost session wakes them all. */
  final Set<CountDownLatch> waiting = ConcurrentHashMap.newKeySet();

  /** Partitions whose node is known to exist. */
  final Set<Integer> knownPartitions = ConcurrentHashMap.newKeySet();

  private volatile SessionLease lease;
  private volatile Partitioner partitioner;
  private volatile boolean ownersYield = true;

  LockCore(KeyLocks.Builder b) {
    this.client = b.client;
    this.group = b.group;
    this.paths = GroupPaths.of(b.namespace, b.group);
    this.selfId = b.memberId;
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
    this.events = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(name));
  }

  /** Takes what the group config says, at start. */
  void configure(GroupProbe.Facts facts, SessionLease sessionLease) {
    this.partitioner = Partitioner.of(facts.partitions(), router);
    this.ownersYield = facts.ownersYield();
    this.lease = sessionLease;
  }

  /** The lease of this service's client session: what every held lock and guard is checked by. */
  SessionLease lease() {
    return lease;
  }

  Partitioner partitioner() {
    return partitioner;
  }

  /** Whether partition owners yield keys to requests (not in a tooz group). */
  boolean ownersYield() {
    return ownersYield;
  }

  /** The queue path of a key: its partition's node and its routing key. */
  String queueOf(int partition, String key) {
    return paths.lockPartition(partition)
        + "/"
        + LockKeys.encode(key.substring(0, router.routingKeyEnd(key)));
  }

  static String newRequestId() {
    byte[] b = new byte[LockNode.ID_LENGTH / 2];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  // ---------------------------------------------------------------- reads shared by the parts

  /** Lists a queue, with an optional watch; an absent queue is empty. */
  LockQueue list(String queue, CuratorWatcher watcher) {
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
  LockData readData(String path, CuratorWatcher watcher) {
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

  /** Names a holder for a timeout's message. */
  static String describe(LockNode node, LockData data) {
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

  // ---------------------------------------------------------------- plumbing

  /** Runs a user's lock callback under the one listener rule ({@link ListenerGuard}). */
  void runGuarded(Runnable call, String what, String key) {
    new ListenerGuard(log, "the lock on " + LockKeys.shown(key)).run(what, call);
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

  /**
   * Runs a task on the event thread after a delay.
   *
   * @throws RejectedExecutionException if the service is closed
   */
  void schedule(Runnable task, long delayMillis) {
    events.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
  }

  ZooKeeper zk() {
    return zk(client);
  }

  static ZooKeeper zk(CuratorFramework client) {
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
    return fix(client, path);
  }

  static String fix(CuratorFramework client, String path) {
    return ZKPaths.fixForNamespace(client.getNamespace(), path);
  }

  String unfix(String path) {
    String ns = client.getNamespace();
    return ns == null || ns.isEmpty() ? path : path.substring(ns.length() + 1);
  }

  void checkOpen(String key) {
    if (lifecycle.isClosed()) {
      throw new IllegalStateException(
          "lock service of " + selfId + " closed while acquiring " + LockKeys.shown(key));
    }
  }

  void requireStarted(String what) {
    if (lifecycle.state() != Lifecycle.State.STARTED) {
      throw new IllegalStateException(
          what + "() needs a started lock service; " + selfId + " is " + lifecycle.state());
    }
  }
}
