package io.ringwork.lock;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.lock.internal.OwnerSide;
import io.ringwork.membership.ConnectionDefaults;
import io.ringwork.membership.Membership;
import io.ringwork.membership.SessionLease;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Partitioner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.Watcher;
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
 * <p>This class is a facade over small parts, as Curator's {@code InterProcessMutex} is over {@code
 * LockInternals}: {@link Acquisition} drives a request (create, wait, grant; the one wait primitive
 * is {@link LockWait}), {@link Holds} follows held locks through the session and the mailbox and
 * releases them, {@link Upgrades} changes their mode, {@link LockAdmin} inspects, breaks and asks
 * for locks back, and {@link GroupProbe} asks the group what it is. {@link LockCore} holds what
 * they share. The partition owner's side, {@link PartitionGuards}, sees the core only through
 * {@link KeyLockCore}.
 *
 * <p>Requests, holds and background deletes run on the caller's thread and one event thread per
 * service; listener callbacks run on the event thread, guarded.
 */
public final class KeyLocks implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KeyLocks.class);

  /** The number of partitions used when neither the builder nor the group config gives one. */
  public static final int DEFAULT_PARTITIONS = 256;

  /** The namespace used when the builder gives none, as the rebalancer's. */
  public static final String DEFAULT_NAMESPACE = ConnectionDefaults.NAMESPACE;

  private final LockCore core;
  private final int configuredPartitions;
  private final GroupProbe group;
  private final Holds holds;
  private final Acquisition acquisition;
  private final LockAdmin admin;
  private final ConnectionStateListener connectionListener;
  private volatile PartitionGuards guards;

  private KeyLocks(Builder b) {
    this.core = new LockCore(b);
    this.configuredPartitions = b.partitions;
    this.group = new GroupProbe(core.client, core.paths);
    LockCleanup cleanup = new LockCleanup(core);
    this.holds = new Holds(core, cleanup, new Upgrades(core, cleanup));
    this.acquisition = new Acquisition(core, holds, group);
    this.admin = new LockAdmin(core, group);
    this.connectionListener = (c, s) -> holds.stateChanged(s);
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
    core.lifecycle.start();
    if (core.client.getState() != CuratorFrameworkState.STARTED) {
      close();
      throw new IllegalStateException(
          "the Curator client must be started before the lock service of " + core.selfId);
    }
    GroupProbe.Facts facts;
    try {
      facts = group.readOrCreate(configuredPartitions, DEFAULT_PARTITIONS);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    core.configure(facts, SessionLease.acquire(core.client));
    holds.watchMail();
    core.client.getConnectionStateListenable().addListener(connectionListener, core.events);
  }

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
    return acquisition.acquire(request);
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
    long deadline = core.nanoTime.getAsLong() + timeout.toNanos();
    boolean ok = false;
    try {
      for (String key : sorted) {
        long left = Math.max(0, deadline - core.nanoTime.getAsLong());
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

  // ---------------------------------------------------------------- introspection and breaking

  /**
   * Lists the holders and waiters of one key, including subtree locks that cover it.
   *
   * @throws IllegalArgumentException if the key is not a valid key
   */
  public KeyLockState inspect(String key) {
    return admin.inspect(key);
  }

  /**
   * Lists every lock of the group, by key (sorted). Nodes whose data is unreadable are listed with
   * a {@link LockInfo#problem()}; they never make the listing fail.
   */
  public List<KeyLockState> inspectAll() {
    return admin.inspectAll();
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
    return admin.breakLock(key, force);
  }

  /**
   * Returns the group's records of forced breaks ({@link #breakLock}), newest first: who broke
   * which holders of which key, and when. Bounded: the newest {@link LockBreak#KEPT}, none older
   * than {@link LockBreak#MAX_AGE_MILLIS}.
   *
   * @throws IllegalStateException if not started, or ZooKeeper cannot be read
   */
  public List<LockBreak> breaks() {
    return admin.breaks();
  }

  /**
   * Asks the holders of a key to give it up: their {@link LockHandle#onRevokeRequested} callbacks
   * run; whether they release is up to them.
   *
   * @return how many holders were asked
   */
  public int requestRevoke(String key, String by) {
    return admin.requestRevoke(key, by);
  }

  // ---------------------------------------------------------------- owner side

  static {
    OwnerSide.install(new OwnerSideAccess()); // the rebalancer's way in, with no public method
  }

  /**
   * Returns the owner side for a member that owns partitions: its fast path and its yields. Made
   * once, by the rebalancer, through {@link OwnerSide#partitionGuards}.
   *
   * @throws IllegalStateException if not started, or asked twice
   */
  synchronized PartitionGuards partitionGuards() {
    core.requireStarted("partitionGuards");
    if (guards != null) {
      throw new IllegalStateException("partitionGuards() was already made for " + core.selfId);
    }
    guards =
        new PartitionGuards(
            new LockCoreLink(core, acquisition, holds),
            core.client,
            core.lease(),
            core.partitioner(),
            core.paths,
            core.metrics);
    return guards;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Returns this member's id. */
  public String memberId() {
    return core.selfId;
  }

  /** Returns the group's name. */
  public String group() {
    return core.group;
  }

  /** Returns the partition of a key, by the group's partition count and this router. */
  public int partition(String key) {
    core.requireStarted("partition");
    return core.partitioner().partition(key);
  }

  /** Returns the number of partitions in use. */
  public int partitions() {
    core.requireStarted("partitions");
    return core.partitioner().partitions();
  }

  /** Returns the locks this service holds or requests now. */
  public List<LockHandle> handles() {
    return List.copyOf(core.active);
  }

  /**
   * Releases every lock this service holds, wakes every waiting request (which fails), and stops.
   * Idempotent; throws nothing. The Curator client is the caller's and stays open.
   */
  @Override
  public void close() {
    if (!core.lifecycle.close()) {
      return;
    }
    PartitionGuards g = guards;
    if (g != null) {
      g.close();
    }
    SessionLease l = core.lease();
    if (l != null) {
      l.release();
    }
    core.waiting.forEach(CountDownLatch::countDown);
    for (LockHandle h : List.copyOf(core.active)) {
      if (h.state() != LockState.ACQUIRING) {
        h.release();
      }
    }
    core.client.getConnectionStateListenable().removeListener(connectionListener);
    removeMailWatch();
    core.events.shutdown();
    try {
      if (!core.events.awaitTermination(5, TimeUnit.SECONDS)) {
        core.events.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      core.events.shutdownNow();
    }
    core.metrics.close();
  }

  /**
   * Removes the mailbox watch from the server (removing one watcher object only forgets it
   * locally): now, or once the connection is back in this session (a caller's client outlives this
   * service).
   */
  private void removeMailWatch() {
    String mail = core.paths.lockMail(core.selfId);
    Membership.whenConnected(
        core.client,
        core.sessionIdOrZero(),
        c -> {
          try {
            c.watchers().removeAll().ofType(Watcher.WatcherType.Any).quietly().forPath(mail);
            return true;
          } catch (Exception e) {
            log.debug("could not remove the watch of {} now: {}", mail, e.toString());
            return false;
          }
        });
  }

  /** Builds a {@link KeyLocks}. Every setter validates at once and may be called once. */
  public static final class Builder {
    CuratorFramework client;
    String namespace;
    String group;
    String memberId;
    int partitions = -1;
    KeyRouter router;
    MetricRegistry metrics;
    LongSupplier incarnation;
    LongSupplier clock;
    LongSupplier nanoTime;

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
