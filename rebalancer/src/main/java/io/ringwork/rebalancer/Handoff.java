package io.ringwork.rebalancer;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.Membership;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The acknowledgement protocol of a handoff: workers acknowledge the state they have applied, the
 * leader checks the acknowledgements and writes one barrier, and workers activate on the barrier.
 *
 * <h2>Protocol</h2>
 *
 * <p>Every worker applies a new state (an assignment version, or a digest of the member set in
 * leaderless modes) by first revoking what it loses, then writing its acknowledgement {@code
 * acks/<id>} = {state, incarnation}: an ephemeral node that this worker only ever writes in, and
 * deletes from, its own current session. A worker never watches another worker's acknowledgement.
 *
 * <p>The leader (a worker) watches the acknowledgements. When every one it can see names the
 * leader's own state and every worker in its view has one from its current session, it checks again
 * without trusting its cache: it writes {@code barrier-clock} (zxid R), reads the children of
 * {@code acks} and all of them in one multi-read (which reflects every write before R, because this
 * session's server applied R before answering), and only if that read agrees writes {@code barrier}
 * = {state, readZxid: R}. A worker activates what the state gives it once the barrier names its
 * state and its own acknowledgement was written before R; the barrier's zxid is the fencing token.
 *
 * <h2>Why it keeps one active grant per partition</h2>
 *
 * <p>A worker holds grants under state S only while its acknowledgement says S: it revokes before
 * it acknowledges anything else, and an acknowledgement disappears only when its session ends (or
 * when it closes, after revoking). Suppose X activates p under T at barrier B (read point R) and Y
 * activates p under U at barrier B' (R'), U != T, and the holds overlap. If R' < R, B's read came
 * after Y's acknowledgement of U (written before R'), so it saw Y's acknowledgement say T, or none:
 * Y had revoked p, or its session had ended. If R < R', symmetrically for X. If U == T, p has one
 * primary under T, so X and Y are one member id in two incarnations, and the older one ended with
 * its session, or revoked and withdrew its acknowledgement before it left (B's read, which needs
 * every acknowledgement of T to come from a live member's current session, found it gone). That is
 * the case of a member back within its restart grace ({@link FleetWatch}): the state did not change
 * while it was away, and it activates on a barrier read after its new acknowledgement. A deposed
 * leader changes nothing: a barrier is true of the reads it was made from, whoever writes it.
 * Tokens rise: in the first case B was written after Y's hold ended, which was after B' was
 * written; so B's zxid is the larger.
 *
 * <p>A missing acknowledgement of a live worker blocks the barrier; it never counts as "holds
 * nothing", and an acknowledgement from a session that no live member node shares blocks too. An
 * acknowledgement left by a worker's previous session is deleted by that worker (only when that
 * earlier session of its own owns it) before it acknowledges in the new one.
 *
 * <h2>Cost</h2>
 *
 * <p>Per state change each worker makes one write and reads the barrier once; the leader reads each
 * acknowledgement once and writes three nodes. That is O(N) operations per membership change, not
 * the O(N^2) of workers watching each other.
 */
final class Handoff {

  private static final Logger log = LoggerFactory.getLogger(Handoff.class);
  private static final int MAX_READS_PER_MULTI = 256;

  /** A barrier as read: the state it completes, its read point and its own zxid (the token). */
  record Barrier(HandoffState state, long readZxid, long zxid) {
    static final Barrier NONE = new Barrier(HandoffState.NONE, 0, 0);

    /** Whether it completes {@code state} for an acknowledgement written at {@code ackZxid}. */
    boolean covers(HandoffState state, long ackZxid) {
      return ackZxid != 0 && this.state.equals(state) && ackZxid < readZxid;
    }
  }

  /** An acknowledgement as read. */
  record Ack(String id, HandoffState state, long incarnation, long session, long zxid) {}

  /** What the leader's check concluded. */
  enum Check {
    /** A barrier was written. */
    WRITTEN,
    /** The barrier in place already covers every acknowledgement. */
    CURRENT,
    /** Not every worker has acknowledged the leader's state yet. */
    WAITING
  }

  private final CuratorFramework client;
  private final GroupPaths paths;
  private final String selfId;
  private final Consumer<Runnable> eventThread;
  private final Runnable onChange;

  private CuratorCache barrierCache;
  // Leader side, confined to the event thread but for the watcher itself.
  private PersistentWatcher ackWatcher;
  private boolean needRead = true;
  private long lastReadPoint;
  // Notifications handed to the event thread but not yet seen there: a burst is read once, after
  // its last notification, not once per acknowledgement.
  private final AtomicInteger queuedNotes = new AtomicInteger();
  private final Set<String> blocking = new HashSet<>();
  private HandoffState readTarget = HandoffState.NONE;
  // The barrier this leader last wrote or found current (its state and read point), or null.
  private Barrier confirmed;
  private List<MemberInfo> readWorkers = List.of();
  private long ackSession;
  private int ackVersion = -1;
  private long ackCzxid;
  private long ackZxid;
  private HandoffState ackState = HandoffState.NONE;

  /**
   * Creates the protocol for one member; {@code eventThread} runs a task on the rebalancer's event
   * thread, and {@code onChange} (run there) is told of every change to the barrier or, while
   * leading, to an acknowledgement.
   */
  Handoff(
      CuratorFramework client,
      GroupPaths paths,
      String selfId,
      Consumer<Runnable> eventThread,
      Runnable onChange) {
    this.client = client;
    this.paths = paths;
    this.selfId = selfId;
    this.eventThread = eventThread;
    this.onChange = onChange;
  }

  /** Starts watching the barrier; every change runs {@code onChange}. */
  void start() {
    barrierCache =
        CuratorCache.build(client, paths.barrier(), CuratorCache.Options.SINGLE_NODE_CACHE);
    barrierCache
        .listenable()
        .addListener(
            (type, before, after) ->
                eventThread.accept(
                    () -> {
                      barrierChanged();
                      onChange.run();
                    }));
    barrierCache.start();
  }

  /**
   * As the leader, reads again when the barrier is not the one it last wrote or confirmed: a
   * deposed leader's late write (its retried setData landing after this leader's) must not stay.
   */
  private void barrierChanged() {
    if (ackWatcher == null || confirmed == null) {
      return;
    }
    Barrier now = barrier();
    if (!now.state().equals(confirmed.state()) || now.readZxid() < confirmed.readZxid()) {
      needRead = true;
    }
  }

  /** The barrier in place, from the cache. */
  Barrier barrier() {
    if (barrierCache == null) {
      return Barrier.NONE;
    }
    Optional<ChildData> data = barrierCache.get(paths.barrier());
    if (data.isEmpty() || data.get().getStat() == null) {
      return Barrier.NONE;
    }
    return parseBarrier(data.get().getData(), data.get().getStat().getMzxid());
  }

  /** The zxid of this member's acknowledgement of its current state, 0 if not written. */
  long ackZxid() {
    return ackZxid;
  }

  /** The session of this member's last acknowledgement, 0 before the first. */
  long ackSessionOrZero() {
    return ackSession;
  }

  /** The state this member last acknowledged, for diagnostics. */
  HandoffState ackState() {
    return ackState;
  }

  /** Whether this member's last acknowledgement names {@code state}. */
  boolean acknowledged(HandoffState state) {
    return ackState.equals(state);
  }

  /**
   * The barrier in place if it completes {@code state} for this member: this member has
   * acknowledged {@code state} and the barrier names it with a read point after that
   * acknowledgement; null otherwise. Its zxid is the token of what {@code state} grants.
   */
  Barrier completing(HandoffState state) {
    Barrier barrier = barrier();
    return ackState.equals(state) && barrier.covers(state, ackZxid) ? barrier : null;
  }

  /**
   * Whether the barrier in place completes {@code state} for this member (see {@link #completing}).
   */
  boolean completes(HandoffState state) {
    return completing(state) != null;
  }

  /** Forgets the acknowledgement: a new session or state must be acknowledged afresh. */
  void forgetAck() {
    ackZxid = 0;
    ackState = HandoffState.NONE;
  }

  /**
   * Writes this member's acknowledgement of {@code state} in session {@code session}, replacing one
   * left by an earlier session of this member; returns the zxid of the write.
   *
   * @throws IllegalStateException if another live session holds this member's acknowledgement
   */
  long acknowledge(HandoffState state, long incarnation, long session) throws Exception {
    byte[] data = AckCodec.encode(state, incarnation);
    String path = paths.ack(selfId);
    if (ackSession == session && ackVersion >= 0) {
      // The usual case, one operation: our own node, at the version we last wrote.
      try {
        Stat written = client.setData().withVersion(ackVersion).forPath(path, data);
        return acknowledged(session, written, state);
      } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
        ackVersion = -1;
      }
    }
    for (int attempt = 0; attempt < 5; attempt++) {
      Stat stat = client.checkExists().forPath(path);
      try {
        Stat written;
        if (stat == null) {
          written = new Stat();
          client
              .create()
              .storingStatIn(written)
              .creatingParentContainersIfNeeded()
              .withMode(CreateMode.EPHEMERAL)
              .forPath(path, data);
          if (written.getEphemeralOwner() != session) {
            // The session changed under us; the caller re-acknowledges in the new one.
            throw new IllegalStateException("session changed while acknowledging");
          }
        } else if (stat.getEphemeralOwner() == session && stat.getCzxid() == ackCzxid) {
          written = client.setData().withVersion(stat.getVersion()).forPath(path, data);
        } else if (stat.getEphemeralOwner() == session) {
          // Of this session but not created by this instance: an earlier instance's on the
          // caller's client, whose deferred withdraw (keyed on its czxid) would remove it under us,
          // or our own create whose reply was lost. Never adopt it: replace it.
          client.delete().withVersion(stat.getVersion()).forPath(path);
          continue;
        } else if (stat.getEphemeralOwner() == ackSession && ackSession != 0) {
          // Left by this member's previous session, which the server still keeps: never write
          // into it (it vanishes when that session expires), remove it and start afresh.
          client.delete().withVersion(stat.getVersion()).forPath(path);
          continue;
        } else {
          throw new IllegalStateException(
              "acknowledgement "
                  + path
                  + " belongs to session 0x"
                  + Long.toHexString(stat.getEphemeralOwner())
                  + ", not this member's 0x"
                  + Long.toHexString(session));
        }
        return acknowledged(session, written, state);
      } catch (KeeperException.NodeExistsException
          | KeeperException.NoNodeException
          | KeeperException.BadVersionException e) {
        // raced with our own earlier session's node or its expiry: look again
      }
    }
    throw new IllegalStateException("could not write " + path + " after 5 attempts");
  }

  private long acknowledged(long session, Stat written, HandoffState state) {
    ackSession = session;
    ackCzxid = written.getCzxid();
    ackVersion = written.getVersion();
    ackZxid = written.getMzxid();
    ackState = state;
    return ackZxid;
  }

  /** Deletes this member's acknowledgement, only if its current session owns it. Quiet. */
  void withdraw(long session) {
    forgetAck();
    // Now, or once the connection is back in that session: a caller's client outlives us, and an
    // acknowledgement left behind would block every barrier for as long as its session lives.
    // Only the node this instance created (its czxid): never a later instance's in that session.
    Membership.deleteWhenConnected(client, paths.ack(selfId), session, ackCzxid);
  }

  // ------------------------------------------------------------------ leader side

  /**
   * Starts watching acknowledgements, as the leader: one persistent recursive watch, so that each
   * acknowledgement written costs the leader one notification and no read.
   */
  void lead() {
    if (ackWatcher != null) {
      return;
    }
    needRead = true;
    blocking.clear();
    ackWatcher = new PersistentWatcher(client, paths.acks(), true);
    ackWatcher
        .getListenable()
        .addListener(
            event -> {
              String path = event.getPath();
              if (path == null) {
                return; // a connection event; the rebalancer re-checks on resume
              }
              long zxid = event.getZxid();
              queuedNotes.incrementAndGet();
              eventThread.accept(
                  () -> {
                    queuedNotes.decrementAndGet();
                    noted(path, zxid);
                    onChange.run();
                  });
            });
    ackWatcher.start();
  }

  /** Stops watching acknowledgements. */
  void follow() {
    confirmed = null;
    if (ackWatcher != null) {
      ackWatcher.close();
      ackWatcher = null;
    }
  }

  /** Makes the next check read again: after a reconnection, events may have been missed. */
  void invalidate() {
    needRead = true;
  }

  /**
   * An acknowledgement changed at {@code zxid}: read again once every one that blocked has changed.
   * A change the last read already saw (it came before that read's point) changes nothing.
   */
  private void noted(String path, long zxid) {
    String prefix = paths.acks() + "/";
    if (!path.startsWith(prefix) || (zxid != WatchedEvent.NO_ZXID && zxid < lastReadPoint)) {
      return;
    }
    String id = path.substring(prefix.length());
    if (blocking.isEmpty()) {
      needRead = true; // e.g. a worker's new incarnation acknowledging a state already complete
    } else if (blocking.remove(id) && blocking.isEmpty()) {
      needRead = true;
    }
  }

  /**
   * As the leader, writes a barrier for {@code target} if every worker of {@code workers} (this one
   * included) has acknowledged it from its current session and no other acknowledgement says
   * otherwise. The decision rests on one read made after a write of this session's (so it sees
   * every earlier acknowledgement), never on a cache; it is repeated only when the target, the
   * workers, or every acknowledgement that blocked the last one has changed.
   */
  Check complete(HandoffState target, List<MemberInfo> workers) throws Exception {
    if (ackWatcher == null || target.isNone()) {
      return Check.WAITING;
    }
    if (!target.equals(readTarget) || !workers.equals(readWorkers)) {
      needRead = true;
    }
    if (!needRead || queuedNotes.get() > 0) {
      return blocking.isEmpty() && !needRead ? Check.CURRENT : Check.WAITING;
    }
    needRead = false;
    readTarget = target;
    readWorkers = List.copyOf(workers);
    blocking.clear();
    try {
      return confirm(target, workers);
    } catch (Exception e) {
      needRead = true; // the retry must read again
      throw e;
    }
  }

  /** The direct read and, if it agrees, the barrier write. */
  private Check confirm(HandoffState target, List<MemberInfo> workers) throws Exception {
    long readPoint = tick();
    lastReadPoint = readPoint;
    List<String> children;
    try {
      children = client.getChildren().forPath(paths.acks());
    } catch (KeeperException.NoNodeException e) {
      children = List.of();
    }
    List<Ack> read = new ArrayList<>();
    Barrier stored = Barrier.NONE;
    List<Op> ops = new ArrayList<>();
    ops.add(Op.getData(paths.barrier()));
    for (String child : children) {
      ops.add(Op.getData(paths.ack(child)));
    }
    List<OpResult> results = new ArrayList<>();
    for (int from = 0; from < ops.size(); from += MAX_READS_PER_MULTI) {
      results.addAll(
          client
              .getZookeeperClient()
              .getZooKeeper()
              .multi(ops.subList(from, Math.min(ops.size(), from + MAX_READS_PER_MULTI))));
    }
    for (int i = 0; i < results.size(); i++) {
      OpResult result = results.get(i);
      if (!(result instanceof OpResult.GetDataResult got)) {
        continue; // gone since getChildren: its session ended or it was withdrawn
      }
      if (i == 0) {
        stored = parseBarrier(got.getData(), got.getStat().getMzxid());
        continue;
      }
      Ack ack = parseAck(children.get(i - 1), got.getData(), got.getStat());
      if (ack == null) {
        blocking.add(children.get(i - 1));
      } else {
        read.add(ack);
      }
    }
    blocking.addAll(disagreeing(target, workers, read));
    if (!blocking.isEmpty()) {
      return Check.WAITING;
    }
    long newest = read.stream().mapToLong(Ack::zxid).max().orElse(0);
    if (stored.state().equals(target) && newest < stored.readZxid()) {
      confirmed = stored;
      return Check.CURRENT;
    }
    byte[] data = BarrierCodec.encode(target, readPoint);
    confirmed = new Barrier(target, readPoint, 0);
    try {
      client.setData().forPath(paths.barrier(), data);
    } catch (KeeperException.NoNodeException e) {
      client.create().creatingParentsIfNeeded().forPath(paths.barrier(), data);
    }
    log.debug("{} wrote the barrier for {} at read point {}", selfId, target, readPoint);
    return Check.WRITTEN;
  }

  /**
   * The ids that keep acknowledgements from showing {@code target} everywhere: an acknowledgement
   * that names another state, one from a session that is not its worker's current one or of a
   * worker not in the view (yet), and a worker with none.
   */
  static Set<String> disagreeing(HandoffState target, List<MemberInfo> workers, List<Ack> acks) {
    Set<String> ids = new HashSet<>();
    Map<String, Ack> byId = new HashMap<>();
    for (Ack ack : acks) {
      byId.put(ack.id(), ack);
      if (!ack.state().equals(target)) {
        ids.add(ack.id());
      }
    }
    Set<String> known = new HashSet<>();
    for (MemberInfo w : workers) {
      known.add(w.id());
      Ack ack = byId.get(w.id());
      if (ack == null || ack.session() != w.session() || ack.incarnation() != w.incarnation()) {
        ids.add(w.id());
      }
    }
    for (Ack ack : acks) {
      if (!known.contains(ack.id())) {
        ids.add(ack.id());
      }
    }
    return ids;
  }

  /**
   * Writes the clock node and returns the zxid of the write: a point every later read sees past.
   */
  private long tick() throws Exception {
    byte[] data = selfId.getBytes(StandardCharsets.UTF_8);
    try {
      return client.setData().forPath(paths.barrierClock(), data).getMzxid();
    } catch (KeeperException.NoNodeException e) {
      try {
        client.create().creatingParentsIfNeeded().forPath(paths.barrierClock(), data);
      } catch (KeeperException.NodeExistsException raced) {
        // created by another leader meanwhile
      }
      return client.setData().forPath(paths.barrierClock(), data).getMzxid();
    }
  }

  /** Stops watching. */
  void close() {
    follow();
    if (barrierCache != null) {
      barrierCache.close();
      barrierCache = null;
    }
  }

  // ------------------------------------------------------------------ reading

  private Ack parseAck(String id, byte[] data, Stat stat) {
    try {
      AckCodec.Written ack = AckCodec.decode(data);
      return new Ack(id, ack.state(), ack.incarnation(), stat.getEphemeralOwner(), stat.getMzxid());
    } catch (IllegalArgumentException e) {
      log.warn(
          "acknowledgement {} is unreadable and blocks the handoff until it goes: {}",
          paths.ack(id),
          data == null ? "null" : new String(data, StandardCharsets.UTF_8));
      return null;
    }
  }

  private Barrier parseBarrier(byte[] data, long zxid) {
    try {
      BarrierCodec.Written barrier = BarrierCodec.decode(data);
      return new Barrier(barrier.state(), barrier.readZxid(), zxid);
    } catch (IllegalArgumentException e) {
      log.warn(
          "barrier {} is unreadable; waiting for the leader to rewrite it: {}",
          paths.barrier(),
          data == null ? "null" : new String(data, StandardCharsets.UTF_8));
      return Barrier.NONE;
    }
  }
}
