package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.Lifecycle;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.ToozRing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns live group membership into exclusive, fenced ownership of partitions: what a conductor,
 * agent or engine embeds.
 *
 * <h2>Design</h2>
 *
 * <p>A member acts on a partition only while it holds an active grant, which needs three things:
 * the assignment in force names it primary; every other live member has acknowledged that same
 * assignment (so whoever held the partition before has run {@code onRevoked} and stopped, or its
 * session, and with it its acknowledgement, is gone); and this member's session is connected.
 *
 * <p>Acknowledgements are ephemeral nodes {@code <group>/acks/<id>} holding the assignment state a
 * member has fully applied. Requiring <em>equal</em> states, not merely newer ones, matters: a
 * member that skipped a version may still hold, under the newer one, a partition that the older one
 * gave away. A member that has not acknowledged anything yet holds nothing, so it is not waited
 * for.
 *
 * <p>Activation itself is a write: the member rewrites its acknowledgement with {@code active} set,
 * and the zxid of that write is the fencing token of every partition it activates. Any later owner
 * activates only after observing this member's later acknowledgement of the handoff, so its own
 * activation write, and token, is strictly greater: tokens increase per partition across owners and
 * across incarnations with no per-partition counter.
 *
 * <p>In <em>coordinated</em> mode ({@code balanced}) the elected leader computes the next table
 * from the stored one and the live, non-draining members, and publishes it through {@link
 * AssignmentStore} (versioned, deltas, compare-and-set on the header). In <em>leaderless</em> mode
 * ({@code rendezvous}) each member computes the table from its own view; acknowledgements then
 * carry a digest of the member set, and equal digests mean equal tables. Membership changes are
 * debounced by the settle delay in both modes. Partitions that do not move are never paused.
 *
 * <p>All state changes happen on one event thread; queries read one volatile {@link Ownership}
 * snapshot. Listener callbacks run on a second thread so that a slow {@code onRevoked} can be given
 * up on at its deadline.
 */
public final class Rebalancer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Rebalancer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final GroupSession session;
  private final PartitionPlacement placement;
  private final boolean coordinated;
  private final boolean tooz;
  private final int toozPoints;
  private final int replicaCount;
  private final Duration revokeDeadline;
  private final Duration settleDelay;
  private final LongSupplier nanoTime;
  private final OwnershipListener listener;
  private final String selfId;

  private final ScheduledExecutorService events;
  private final ExecutorService callbacks;
  private final Object stableMonitor = new Object();
  private final RebalancerMetrics metrics;
  private final Lifecycle lifecycle = new Lifecycle();

  private volatile Ownership ownership = Ownership.NONE;

  // Confined to the event thread.
  private AssignmentStore store;
  private CuratorCache ackCache;
  private CuratorCache headerCache;
  private AssignmentStore.Stored stored;
  private Assignment current;
  private String state = "";
  private long[] tokens = new long[0];
  private final BitSet pending = new BitSet();
  private boolean paused;
  private boolean activeWritten;
  private long appliedIncarnation = -1;
  private long localVersion;
  private ScheduledFuture<?> recompute;
  private long viewChangedNanos = -1;
  // Tooz mode: rings applied since the last settled one (oldest first), and its token.
  private final List<ToozRing> rings = new ArrayList<>();
  private long ringToken;
  private boolean ringPending;
  private long versionAppliedNanos = -1;
  private boolean draining;

  Rebalancer(RebalancerBuilder b, GroupSession session) {
    this.session = session;
    this.placement = b.placement();
    this.tooz = b.isTooz();
    this.toozPoints = b.toozPoints();
    this.replicaCount = b.replicaCount();
    this.coordinated = !tooz && placement.name().equals(io.ringwork.ring.Placement.BALANCED);
    this.revokeDeadline = b.revokeDeadline();
    this.settleDelay = b.settleDelay();
    this.nanoTime = b.nanoTime();
    this.listener = b.listener();
    this.selfId = session.selfId();
    int n = INSTANCES.incrementAndGet();
    String name = "ringwork-rebalancer-" + b.group() + "-" + selfId + "-" + n;
    this.events =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    this.callbacks =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, name + "-listener");
              t.setDaemon(true);
              return t;
            });
    this.metrics = new RebalancerMetrics(b.metrics(), b.group(), () -> ownership);
  }

  /** Returns a new builder. */
  public static RebalancerBuilder newBuilder() {
    return new RebalancerBuilder();
  }

  /**
   * Joins the group and starts taking ownership.
   *
   * @throws IllegalStateException if already started or closed, or the group's stored settings
   *     differ from this member's
   */
  public void start() {
    lifecycle.start();
    try {
      session.connect();
      GroupConfig.ensure(
          session.client(), session.groupPath(), strategyName(), partitions(), replicas());
      if (coordinated) {
        store =
            new AssignmentStore(
                session.client(), session.groupPath(), placement.partitioner().router());
      }
      ackCache = CuratorCache.build(session.client(), acksPath());
      ackCache.listenable().addListener((type, oldData, data) -> submit(this::tryActivate));
      ackCache.start();
      if (coordinated) {
        headerCache =
            CuratorCache.build(
                session.client(), store.headerPath(), CuratorCache.Options.SINGLE_NODE_CACHE);
        headerCache.listenable().addListener((type, oldData, data) -> submit(this::readStored));
        headerCache.start();
      }
      session.start(new SessionEvents());
      submit(this::readStored);
    } catch (RuntimeException e) {
      close();
      throw e;
    } catch (Exception e) {
      close();
      throw new IllegalStateException("could not start the rebalancer: " + e.getMessage(), e);
    }
  }

  /** Returns the active grant for a key's partition, or empty when this member may not act. */
  public Optional<Grant> grant(String key) {
    Ownership o = ownership;
    if (o.rings() != null) {
      return toozGrant(o, key);
    }
    if (o.assignment() == null) {
      return Optional.empty();
    }
    int p = o.assignment().partition(key);
    long token = o.token(p);
    return token == 0 ? Optional.empty() : Optional.of(new Grant(p, token, o.version()));
  }

  /**
   * Tooz mode: the key is ours only if every ring since the last settled one gives it to us, so a
   * key that moves waits for the handoff while keys that stay never pause.
   */
  private Optional<Grant> toozGrant(Ownership o, String key) {
    if (o.paused() || o.ringToken() == 0 || o.rings().isEmpty()) {
      return Optional.empty();
    }
    for (ToozRing ring : o.rings()) {
      if (!ring.primary(key).id().equals(selfId)) {
        return Optional.empty();
      }
    }
    ToozRing newest = o.rings().get(o.rings().size() - 1);
    return Optional.of(new Grant(newest.point(key), o.ringToken(), o.version()));
  }

  /** Returns the active grant for a partition, or empty. */
  public Optional<Grant> grant(int partition) {
    Ownership o = ownership;
    long token = o.token(partition);
    return token == 0 ? Optional.empty() : Optional.of(new Grant(partition, token, o.version()));
  }

  /** Returns the owners of a key in the assignment in force, primary first; empty before one. */
  public List<Member> owners(String key) {
    Ownership o = ownership;
    if (o.rings() != null) {
      return o.rings().isEmpty() ? List.of() : o.rings().get(o.rings().size() - 1).owners(key);
    }
    Assignment a = o.assignment();
    return a == null ? List.of() : a.owners(key);
  }

  /** Returns the partitions this member holds an active grant for, ascending. */
  public Set<Integer> ownedPartitions() {
    Ownership o = ownership;
    Set<Integer> owned = new TreeSet<>();
    if (o.paused()) {
      return owned;
    }
    for (int p = 0; p < o.tokens().length; p++) {
      if (o.tokens()[p] != 0) {
        owned.add(p);
      }
    }
    return Collections.unmodifiableSet(owned);
  }

  /** Returns the assignment in force, if one has been applied. */
  public Optional<Assignment> assignment() {
    return Optional.ofNullable(ownership.assignment());
  }

  /** Returns whether the connection is suspended, which pauses every grant. */
  public boolean isSuspended() {
    return ownership.paused();
  }

  /** Returns this member's id. */
  public String memberId() {
    return selfId;
  }

  /**
   * Waits until the group is stable: an assignment for the current members is in force, every live
   * member has applied it and activated its grants, and this member is connected.
   *
   * @return whether it became stable within the timeout
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean awaitStable(Duration timeout) throws InterruptedException {
    return waitFor(this::isStable, timeout);
  }

  /** Polls a condition on the event thread until it holds or the timeout passes. */
  private boolean waitFor(java.util.function.BooleanSupplier condition, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      CompletableFuture<Boolean> check = new CompletableFuture<>();
      if (!submit(() -> check.complete(condition.getAsBoolean()))) {
        return false;
      }
      try {
        if (check.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          return true;
        }
      } catch (ExecutionException | TimeoutException e) {
        return false;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      // Woken by the next event; the short bound covers a notification that came in between.
      synchronized (stableMonitor) {
        TimeUnit.NANOSECONDS.timedWait(stableMonitor, Math.min(left, 20_000_000L));
      }
    }
  }

  /**
   * Leaves gracefully: marks this member draining, waits until its partitions are active on their
   * new owners (or the timeout passes), then leaves the group.
   *
   * @return whether the handoff completed within the timeout
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean drain(Duration timeout) throws InterruptedException {
    submit(
        () -> {
          draining = true;
          session.setDraining(true);
        });
    boolean done = waitFor(this::drained, timeout);
    close();
    return done;
  }

  boolean isClosedForTest() {
    return lifecycle.isClosed();
  }

  GroupSession sessionForTest() {
    return session;
  }

  /**
   * Stops dead, as a crash would: no revocation, no cleanup, and the ZooKeeper session closed so
   * that its ephemeral nodes go at once.
   */
  void crashForTest() {
    lifecycle.close();
    events.shutdownNow();
    callbacks.shutdownNow();
    session.client().close();
  }

  /** Leaves the group at once. Idempotent; throws nothing. */
  @Override
  public void close() {
    if (!lifecycle.close()) {
      return;
    }
    try {
      events
          .submit(
              () -> {
                cancelRecompute();
                // Stop acting before the member node goes, so the next owner starts after us.
                TreeSet<Integer> held = new TreeSet<>();
                for (int p = 0; p < tokens.length; p++) {
                  if (tokens[p] != 0) {
                    held.add(p);
                    tokens[p] = 0;
                  }
                }
                pending.clear();
                if (ringToken != 0) {
                  held.add(-1);
                  ringToken = 0;
                }
                publish();
                if (!held.isEmpty()) {
                  revoke(held);
                }
                closeQuietly(headerCache);
                closeQuietly(ackCache);
                try {
                  session.client().delete().quietly().forPath(ackPath());
                } catch (Exception e) {
                  log.debug("could not delete {}", ackPath(), e);
                }
                ownership = Ownership.NONE;
              })
          .get(revokeDeadline.toMillis() + 5000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException
        | TimeoutException
        | java.util.concurrent.RejectedExecutionException e) {
      log.warn("rebalancer {} did not close cleanly", selfId, e);
    }
    session.close();
    events.shutdownNow();
    callbacks.shutdown();
    metrics.close();
    synchronized (stableMonitor) {
      stableMonitor.notifyAll();
    }
  }

  // ---------------------------------------------------------------- event thread

  private final class SessionEvents implements GroupSession.Events {
    @Override
    public void onView() {
      submit(Rebalancer.this::viewChanged);
    }

    @Override
    public void onSuspended() {
      submit(Rebalancer.this::suspended);
    }

    @Override
    public void onResumed() {
      submit(Rebalancer.this::resumed);
    }

    @Override
    public void onLost() {
      submit(Rebalancer.this::lost);
    }

    @Override
    public void onLeadership(boolean leader) {
      submit(
          () -> {
            if (leader) {
              scheduleRecompute(Duration.ZERO);
            }
          });
    }
  }

  private boolean submit(Runnable task) {
    if (lifecycle.isClosed() || events.isShutdown()) {
      return false;
    }
    try {
      events.execute(
          () -> {
            try {
              task.run();
            } catch (RuntimeException e) {
              log.error("rebalancer {} event failed", selfId, e);
            } finally {
              synchronized (stableMonitor) {
                stableMonitor.notifyAll();
              }
            }
          });
      return true;
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return false;
    }
  }

  private void viewChanged() {
    viewChangedNanos = nanoTime.getAsLong();
    if (session.joined() && appliedIncarnation != incarnation()) {
      // A new incarnation after session loss: apply the table in force afresh.
      if (current != null) {
        apply(current, state);
      } else if (tooz && !rings.isEmpty()) {
        applyRing(rings.get(rings.size() - 1), state);
      }
    }
    if (coordinated ? session.isLeader() : true) {
      scheduleRecompute(settleDelay);
    }
    tryActivate();
  }

  private void scheduleRecompute(Duration delay) {
    cancelRecompute();
    recompute =
        events.schedule(() -> submit(this::recompute), delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void cancelRecompute() {
    if (recompute != null) {
      recompute.cancel(false);
      recompute = null;
    }
  }

  private List<Member> eligibleMembers() {
    List<Member> members = new ArrayList<>();
    for (GroupSession.LiveMember m : session.members()) {
      if (!m.draining()) {
        members.add(m.member());
      }
    }
    return members;
  }

  private void recompute() {
    recompute = null;
    if (lifecycle.isClosed()) {
      return;
    }
    List<Member> members = eligibleMembers();
    if (members.isEmpty()) {
      return;
    }
    if (tooz) {
      String digest = "d" + Long.toHexString(digest(members));
      if (!digest.equals(state)) {
        localVersion++;
        applyRing(ToozRing.of(members, toozPoints, replicaCount), digest);
      }
      return;
    }
    if (!coordinated) {
      String digest = "d" + Long.toHexString(digest(members));
      if (!digest.equals(state)) {
        localVersion++;
        Assignment next = placement.assign(null, members).withVersion(localVersion);
        apply(next, digest);
      }
      return;
    }
    if (!session.isLeader()) {
      return;
    }
    try {
      stored = store.read(stored);
      Assignment previous = stored == null ? null : stored.assignment();
      Assignment next = placement.assign(previous, members);
      if (previous != null && sameTable(previous, next)) {
        return;
      }
      long[] written = new long[1];
      stored = store.publish(stored, next, written);
      metrics.bytesWritten(written[0]);
      log.info(
          "leader {} published assignment v{} for {} members ({} bytes)",
          selfId,
          next.version(),
          members.size(),
          written[0]);
      readStored();
      // A throttled plan needs further steps; take the next one once this one is settled.
      if (!sameTable(next, placement.assign(next, members))) {
        scheduleRecompute(settleDelay);
      }
    } catch (KeeperException.BadVersionException e) {
      log.info("leader {} lost a publish race; re-reading", selfId);
      stored = null;
      scheduleRecompute(settleDelay);
    } catch (Exception e) {
      log.warn("leader {} could not publish an assignment; retrying", selfId, e);
      scheduleRecompute(settleDelay.plusMillis(100));
    }
  }

  private static boolean sameTable(Assignment a, Assignment b) {
    return a.members().equals(b.members()) && java.util.Arrays.equals(a.table(), b.table());
  }

  private void readStored() {
    if (!coordinated || lifecycle.isClosed()) {
      return;
    }
    try {
      AssignmentStore.Stored read = store.read(stored);
      if (read == null) {
        return;
      }
      stored = read;
      if (current == null || read.assignment().version() > current.version()) {
        apply(read.assignment(), "v" + read.assignment().version());
      }
    } catch (CorruptAssignmentException e) {
      log.error("stored assignment of {} is unreadable: {}", session.groupPath(), e.getMessage());
    } catch (Exception e) {
      log.warn("could not read the assignment of {}; will retry", session.groupPath(), e);
      events.schedule(() -> submit(this::readStored), 200, TimeUnit.MILLISECONDS);
    }
  }

  private void apply(Assignment next, String nextState) {
    metrics.rebalance();
    versionAppliedNanos = nanoTime.getAsLong();
    if (tokens.length != next.partitions()) {
      tokens = new long[next.partitions()];
    }
    current = next;
    state = nextState;
    appliedIncarnation = incarnation();
    BitSet owned = new BitSet(next.partitions());
    for (int p : next.partitionsOf(selfId)) {
      owned.set(p);
    }
    TreeSet<Integer> revoked = new TreeSet<>();
    for (int p = 0; p < tokens.length; p++) {
      if (tokens[p] != 0 && !owned.get(p)) {
        tokens[p] = 0;
        revoked.add(p);
      }
    }
    pending.clear();
    for (int p = owned.nextSetBit(0); p >= 0; p = owned.nextSetBit(p + 1)) {
      if (tokens[p] == 0) {
        pending.set(p);
      }
    }
    activeWritten = false;
    publish();
    if (!revoked.isEmpty()) {
      revoke(revoked);
    }
    Assignment applied = next;
    callback("onAssignment", () -> listener.onAssignment(applied));
    writeAck(false);
    tryActivate();
  }

  /**
   * Tooz mode: a new ring. Keys it moves stop being ours at once (the chain check in {@link
   * #grant(String)}); the listener hears of it through {@code onRevoked} with the pseudo-partition
   * -1 ("re-check your keys"), and the handoff completes when every member has acknowledged it.
   */
  private void applyRing(ToozRing ring, String nextState) {
    metrics.rebalance();
    versionAppliedNanos = nanoTime.getAsLong();
    state = nextState;
    appliedIncarnation = incarnation();
    boolean held = ringToken != 0;
    if (rings.size() >= 16) {
      // Too many unsettled changes to track: give everything up until the next settle.
      rings.clear();
      ringToken = 0;
    }
    rings.add(ring);
    ringPending = true;
    activeWritten = false;
    publish();
    if (held) {
      revoke(Set.of(-1));
    }
    writeAck(false);
    tryActivate();
  }

  /** Runs onRevoked and waits for it up to the deadline; grants are already inactive. */
  private void revoke(Set<Integer> revoked) {
    Set<Integer> view = Collections.unmodifiableSet(revoked);
    CompletableFuture<Void> done =
        CompletableFuture.runAsync(
            () -> guarded("onRevoked", () -> listener.onRevoked(view)), callbacks);
    try {
      done.get(revokeDeadline.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      metrics.overdueRevocation();
      log.warn(
          "onRevoked of {} partitions on {} ran past its {} deadline; acknowledging anyway",
          revoked.size(),
          selfId,
          revokeDeadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      log.warn("onRevoked failed on {}", selfId, e.getCause());
    }
  }

  private void tryActivate() {
    if (tooz) {
      tryActivateRing();
      return;
    }
    if (current == null || lifecycle.isClosed()) {
      return;
    }
    if (pending.isEmpty()) {
      if (!activeWritten && !paused && session.joined()) {
        writeAck(true);
      }
      return;
    }
    if (paused || !session.joined() || !othersAcknowledged()) {
      return;
    }
    long token = writeAck(true);
    if (token == 0) {
      return;
    }
    List<Grant> grants = new ArrayList<>(pending.cardinality());
    for (int p = pending.nextSetBit(0); p >= 0; p = pending.nextSetBit(p + 1)) {
      tokens[p] = token;
      grants.add(new Grant(p, token, current.version()));
    }
    pending.clear();
    publish();
    long now = nanoTime.getAsLong();
    metrics.handoffWait(now - versionAppliedNanos);
    if (viewChangedNanos >= 0) {
      metrics.rebalanceTime(now - viewChangedNanos);
      viewChangedNanos = -1;
    }
    List<Grant> granted = Collections.unmodifiableList(grants);
    callback("onAssigned", () -> listener.onAssigned(granted));
  }

  private void tryActivateRing() {
    if (rings.isEmpty() || lifecycle.isClosed() || paused || !session.joined()) {
      return;
    }
    if (!ringPending) {
      if (!activeWritten) {
        writeAck(true);
      }
      return;
    }
    if (!othersAcknowledged()) {
      return;
    }
    long token = writeAck(true);
    if (token == 0) {
      return;
    }
    ToozRing newest = rings.get(rings.size() - 1);
    rings.clear();
    rings.add(newest);
    ringToken = token;
    ringPending = false;
    publish();
    long now = nanoTime.getAsLong();
    metrics.handoffWait(now - versionAppliedNanos);
    if (viewChangedNanos >= 0) {
      metrics.rebalanceTime(now - viewChangedNanos);
      viewChangedNanos = -1;
    }
    List<Grant> granted = List.of(new Grant(-1, token, localVersion));
    callback("onAssigned", () -> listener.onAssigned(granted));
  }

  private boolean othersAcknowledged() {
    for (ChildData child : ackCache.stream().toList()) {
      if (child.getPath().equals(acksPath()) || child.getPath().equals(ackPath())) {
        continue;
      }
      String other = ackState(child.getData());
      if (!state.equals(other)) {
        return false;
      }
    }
    return true;
  }

  private static String ackState(byte[] data) {
    try {
      JsonNode node = JSON.readTree(data);
      return node == null ? "" : node.path("state").asText("");
    } catch (Exception e) {
      return "";
    }
  }

  private static boolean ackActive(byte[] data, String state) {
    try {
      JsonNode node = JSON.readTree(data);
      return node != null && state.equals(node.path("active").asText(""));
    } catch (Exception e) {
      return false;
    }
  }

  /** Writes this member's acknowledgement; returns the zxid of the write, or 0 if it failed. */
  private long writeAck(boolean active) {
    if (!session.joined() || lifecycle.isClosed()) {
      return 0;
    }
    ObjectNode node = JSON.createObjectNode();
    node.put("format", 1);
    node.put("state", state);
    node.put("active", active ? state : "");
    node.put("incarnation", incarnation());
    byte[] data = node.toString().getBytes(StandardCharsets.UTF_8);
    CuratorFramework client = session.client();
    try {
      Stat stat;
      try {
        stat = client.setData().forPath(ackPath(), data);
      } catch (KeeperException.NoNodeException e) {
        client
            .create()
            .creatingParentContainersIfNeeded()
            .withMode(CreateMode.EPHEMERAL)
            .forPath(ackPath(), data);
        stat = client.checkExists().forPath(ackPath());
      }
      if (active) {
        activeWritten = true;
      }
      return stat == null ? 0 : stat.getMzxid();
    } catch (Exception e) {
      log.warn("could not write the acknowledgement of {}: {}", selfId, e.toString());
      events.schedule(() -> submit(this::retryAck), 100, TimeUnit.MILLISECONDS);
      return 0;
    }
  }

  private void retryAck() {
    writeAck(false);
    tryActivate();
  }

  private boolean isStable() {
    if (tooz) {
      if (rings.isEmpty() || ringPending || paused || !session.joined()) {
        return false;
      }
    } else if (current == null || paused || !session.joined() || !pending.isEmpty()) {
      return false;
    }
    List<Member> members = eligibleMembers();
    if (coordinated) {
      if (!current.members().equals(sortById(members))) {
        return false;
      }
    } else if (!state.equals("d" + Long.toHexString(digest(members)))) {
      return false;
    }
    return activeWritten && allActive();
  }

  private boolean drained() {
    if (tooz) {
      if (rings.isEmpty()) {
        return !session.joined() || eligibleMembers().isEmpty();
      }
      ToozRing newest = rings.get(rings.size() - 1);
      if (newest.members().stream().anyMatch(m -> m.id().equals(selfId))) {
        return eligibleMembers().isEmpty();
      }
      return allActive();
    }
    if (current == null) {
      return !session.joined() || eligibleMembers().isEmpty();
    }
    if (current.indexOf(selfId) >= 0 && current.primaryCount(selfId) > 0) {
      return eligibleMembers().isEmpty();
    }
    return allActive();
  }

  /** Whether every other member has activated the state in force. */
  private boolean allActive() {
    for (ChildData child : ackCache.stream().toList()) {
      if (child.getPath().equals(acksPath()) || child.getPath().equals(ackPath())) {
        continue;
      }
      if (!ackActive(child.getData(), state)) {
        return false;
      }
    }
    return true;
  }

  private void suspended() {
    if (paused) {
      return;
    }
    paused = true;
    publish();
    callback("onSuspended", listener::onSuspended);
  }

  private void resumed() {
    if (!paused) {
      return;
    }
    paused = false;
    publish();
    callback("onResumed", listener::onResumed);
    tryActivate();
  }

  private void lost() {
    TreeSet<Integer> held = new TreeSet<>();
    for (int p = 0; p < tokens.length; p++) {
      if (tokens[p] != 0) {
        held.add(p);
        tokens[p] = 0;
      }
    }
    pending.clear();
    if (ringToken != 0) {
      held.add(-1);
    }
    ringToken = 0;
    ringPending = !rings.isEmpty();
    paused = false;
    activeWritten = false;
    appliedIncarnation = -1;
    publish();
    Set<Integer> view = Collections.unmodifiableSet(held);
    callback("onLost", () -> listener.onLost(view));
    // Rejoining happens in the membership layer; the next view re-applies the table in force.
  }

  private void publish() {
    long version = tooz ? localVersion : current == null ? 0 : current.version();
    ownership =
        new Ownership(
            current, tokens.clone(), version, paused, tooz ? List.copyOf(rings) : null, ringToken);
    metrics.version(version);
  }

  private long incarnation() {
    return session.joined() ? session.incarnation() : -1;
  }

  private void callback(String what, Runnable call) {
    try {
      callbacks.execute(() -> guarded(what, call));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("listener {} dropped after close", what);
    }
  }

  private void guarded(String what, Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.error("listener {} of rebalancer {} threw; ignored", what, selfId, e);
    } catch (Error e) {
      if (e instanceof VirtualMachineError) {
        throw e;
      }
      log.error("listener {} of rebalancer {} threw; ignored", what, selfId, e);
    }
    if (Thread.interrupted()) {
      Thread.currentThread().interrupt();
    }
  }

  private String acksPath() {
    return session.groupPath() + "/acks";
  }

  private String ackPath() {
    return acksPath() + "/" + selfId;
  }

  private int partitions() {
    return tooz ? toozPoints : placement.partitioner().partitions();
  }

  private int replicas() {
    return tooz ? replicaCount : placement.replicas();
  }

  private String strategyName() {
    return tooz ? io.ringwork.ring.Placement.TOOZ : placement.name();
  }

  private static List<Member> sortById(List<Member> members) {
    List<Member> sorted = new ArrayList<>(members);
    sorted.sort((a, b) -> a.id().compareTo(b.id()));
    return sorted;
  }

  /** XXH3-64 of the canonical member list: equal digests mean equal leaderless tables. */
  private static long digest(List<Member> members) {
    StringBuilder sb = new StringBuilder();
    for (Member m : sortById(members)) {
      sb.append(m.id())
          .append('\u0001')
          .append(m.weight())
          .append('\u0001')
          .append(m.zone().orElse(""))
          .append('\u0002');
    }
    return Partitioner.hash(sb.toString());
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      log.debug("close failed", e);
    }
  }
}
