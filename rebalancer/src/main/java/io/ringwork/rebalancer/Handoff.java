package io.ringwork.rebalancer;

import io.ringwork.membership.MemberInfo;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
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
 *
 * <h2>Storage</h2>
 *
 * <p>This class decides what to write and what a read proves; where the facts live is a {@link
 * HandoffStore}: {@link ZooKeeperHandoffStore} in production (the nodes above), an in-memory store
 * in {@code HandoffInMemoryTest}, which runs whole handoffs with this class unchanged.
 */
final class Handoff {

  private static final Logger log = LoggerFactory.getLogger(Handoff.class);

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

  private final HandoffStore store;
  private final String selfId;
  private final Consumer<Runnable> eventThread;
  private final Runnable onChange;

  private HandoffStore.Watch barrierWatch;
  // Leader side, confined to the event thread but for the watch itself.
  private HandoffStore.Watch ackWatch;
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
  private long ackZxid;
  private HandoffState ackState = HandoffState.NONE;

  /**
   * Creates the protocol for one member over {@code store}; {@code eventThread} runs a task on the
   * rebalancer's event thread, and {@code onChange} (run there) is told of every change to the
   * barrier or, while leading, to an acknowledgement.
   */
  Handoff(HandoffStore store, String selfId, Consumer<Runnable> eventThread, Runnable onChange) {
    this.store = store;
    this.selfId = selfId;
    this.eventThread = eventThread;
    this.onChange = onChange;
  }

  /** Starts watching the barrier; every change runs {@code onChange}. */
  void start() {
    barrierWatch =
        store.watchBarrier(
            () ->
                eventThread.accept(
                    () -> {
                      barrierChanged();
                      onChange.run();
                    }));
  }

  /**
   * As the leader, reads again when the barrier is not the one it last wrote or confirmed: a
   * deposed leader's late write (its retried setData landing after this leader's) must not stay.
   */
  private void barrierChanged() {
    if (ackWatch == null || confirmed == null) {
      return;
    }
    Barrier now = barrier();
    if (!now.state().equals(confirmed.state()) || now.readZxid() < confirmed.readZxid()) {
      needRead = true;
    }
  }

  /** The barrier in place, as the barrier watch last saw it. */
  Barrier barrier() {
    return store.barrier();
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
    long zxid = store.writeAck(state, incarnation, session);
    ackSession = session;
    ackZxid = zxid;
    ackState = state;
    return ackZxid;
  }

  /** Deletes this member's acknowledgement, only if its current session owns it. Quiet. */
  void withdraw(long session) {
    forgetAck();
    store.withdrawAck(session);
  }

  // ------------------------------------------------------------------ leader side

  /**
   * Starts watching acknowledgements, as the leader: one persistent recursive watch, so that each
   * acknowledgement written costs the leader one notification and no read.
   */
  void lead() {
    if (ackWatch != null) {
      return;
    }
    needRead = true;
    blocking.clear();
    ackWatch =
        store.watchAcks(
            (id, zxid) -> {
              queuedNotes.incrementAndGet();
              eventThread.accept(
                  () -> {
                    queuedNotes.decrementAndGet();
                    noted(id, zxid);
                    onChange.run();
                  });
            });
  }

  /** Stops watching acknowledgements. */
  void follow() {
    confirmed = null;
    if (ackWatch != null) {
      ackWatch.close();
      ackWatch = null;
    }
  }

  /** Makes the next check read again: after a reconnection, events may have been missed. */
  void invalidate() {
    needRead = true;
  }

  /**
   * The acknowledgement of {@code id} (null: their parent) changed at {@code zxid}: read again once
   * every one that blocked has changed. A change the last read already saw (it came before that
   * read's point) changes nothing.
   */
  private void noted(String id, long zxid) {
    if (id == null || (zxid != HandoffStore.NO_ZXID && zxid < lastReadPoint)) {
      return;
    }
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
    if (ackWatch == null || target.isNone()) {
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
    long readPoint = store.markReadPoint();
    lastReadPoint = readPoint;
    HandoffStore.AckRead read = store.readAcks();
    blocking.addAll(read.unreadable());
    blocking.addAll(disagreeing(target, workers, read.acks()));
    if (!blocking.isEmpty()) {
      return Check.WAITING;
    }
    Barrier stored = read.barrier();
    long newest = read.acks().stream().mapToLong(Ack::zxid).max().orElse(0);
    if (stored.state().equals(target) && newest < stored.readZxid()) {
      confirmed = stored;
      return Check.CURRENT;
    }
    confirmed = new Barrier(target, readPoint, 0);
    store.writeBarrier(target, readPoint);
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

  /** Stops watching. */
  void close() {
    follow();
    if (barrierWatch != null) {
      barrierWatch.close();
      barrierWatch = null;
    }
  }
}
