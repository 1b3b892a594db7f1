package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * One group's handoff facts in memory, for a test that runs whole handoffs without ZooKeeper: the
 * acknowledgements (each owned by a session and gone when it ends), the barrier, the read clock and
 * the published assignment, in one total order of writes (the zxid). {@link #forMember} gives each
 * member its {@link HandoffStore}. It keeps what the protocol relies on ({@link HandoffStore}'s
 * contract): an acknowledgement is written only in a live session and removed with it, a read sees
 * every earlier write, and a publish that does not follow the stored version loses. Watches are
 * told of a change when it is written; the simulation decides when each member's event thread
 * handles it. Single-threaded, as the {@link Simulation} that runs it.
 */
final class InMemoryGroupStore {

  /** An acknowledgement as stored. */
  record StoredAck(HandoffState state, long incarnation, long owner, long czxid, long mzxid) {}

  private long zxid;
  private long sessions = 0x1000;
  private final Set<Long> live = new HashSet<>();
  private final Map<String, StoredAck> acks = new TreeMap<>();
  private Handoff.Barrier barrier = Handoff.Barrier.NONE;
  private AssignmentStore.Stored assignment;
  private final List<Runnable> barrierWatches = new ArrayList<>();
  private final List<HandoffStore.AckListener> ackWatches = new ArrayList<>();
  private final List<Runnable> assignmentWatches = new ArrayList<>();

  /** Opens a session; the member's incarnation is {@link #nextZxid()} at its join. */
  long openSession() {
    long session = ++sessions;
    live.add(session);
    return session;
  }

  /** A write's position in the group's order (a member node's creation, say). */
  long nextZxid() {
    return ++zxid;
  }

  /** Ends a session, as its expiry: every acknowledgement it owns goes. */
  void endSession(long session) {
    live.remove(session);
    for (String id : List.copyOf(acks.keySet())) {
      if (acks.get(id).owner() == session) {
        acks.remove(id);
        ackChanged(id, ++zxid);
      }
    }
  }

  /** The acknowledgements stored now, by member id. */
  Map<String, StoredAck> acks() {
    return Map.copyOf(acks);
  }

  /** The barrier stored now. */
  Handoff.Barrier barrier() {
    return barrier;
  }

  /** The assignment published now, or null. */
  Assignment assignment() {
    return assignment == null ? null : assignment.assignment();
  }

  /** The store member {@code id} uses. */
  HandoffStore forMember(String id) {
    return new MemberStore(id);
  }

  private void ackChanged(String id, long at) {
    for (HandoffStore.AckListener l : List.copyOf(ackWatches)) {
      l.changed(id, at);
    }
  }

  private static void fire(List<Runnable> watches) {
    for (Runnable r : List.copyOf(watches)) {
      r.run();
    }
  }

  private static <T> HandoffStore.Watch watch(List<T> watches, T listener) {
    watches.add(listener);
    return () -> watches.remove(listener);
  }

  private final class MemberStore implements HandoffStore {
    private final String id;
    // The acknowledgement this member last wrote: its session and creation.
    private long writtenSession;
    private long writtenCzxid;

    MemberStore(String id) {
      this.id = id;
    }

    @Override
    public long writeAck(HandoffState state, long incarnation, long session) {
      if (!live.contains(session)) {
        throw new IllegalStateException("session 0x" + Long.toHexString(session) + " has ended");
      }
      StoredAck current = acks.get(id);
      if (current != null && (current.owner() != session || current.czxid() != writtenCzxid)) {
        if (current.owner() != session
            && (writtenSession == 0 || current.owner() != writtenSession)) {
          throw new IllegalStateException(
              "acknowledgement of " + id + " belongs to session 0x" + current.owner());
        }
        // An earlier session's of this member, or not this instance's: removed, never written into.
        acks.remove(id);
        ackChanged(id, ++zxid);
        current = null;
      }
      long at = ++zxid;
      long czxid = current == null ? at : current.czxid();
      acks.put(id, new StoredAck(state, incarnation, session, czxid, at));
      writtenSession = session;
      writtenCzxid = czxid;
      ackChanged(id, at);
      return at;
    }

    @Override
    public void withdrawAck(long session) {
      StoredAck current = acks.get(id);
      if (current != null && current.owner() == session && current.czxid() == writtenCzxid) {
        acks.remove(id);
        ackChanged(id, ++zxid);
      }
    }

    @Override
    public Watch watchBarrier(Runnable onChange) {
      return watch(barrierWatches, onChange);
    }

    @Override
    public Handoff.Barrier barrier() {
      return barrier;
    }

    @Override
    public Watch watchAcks(AckListener listener) {
      return watch(ackWatches, listener);
    }

    @Override
    public long markReadPoint() {
      return ++zxid;
    }

    @Override
    public AckRead readAcks() {
      List<Handoff.Ack> read = new ArrayList<>();
      acks.forEach(
          (member, a) ->
              read.add(new Handoff.Ack(member, a.state(), a.incarnation(), a.owner(), a.mzxid())));
      return new AckRead(barrier, read, List.of());
    }

    @Override
    public void writeBarrier(HandoffState state, long readPoint) {
      barrier = new Handoff.Barrier(state, readPoint, ++zxid);
      fire(barrierWatches);
    }

    @Override
    public Watch watchAssignment(Runnable onChange) {
      return watch(assignmentWatches, onChange);
    }

    @Override
    public AssignmentStore.Stored readAssignment(AssignmentStore.Stored cached) {
      return assignment;
    }

    @Override
    public AssignmentStore.Stored readWatchedAssignment(AssignmentStore.Stored cached) {
      return assignment;
    }

    @Override
    public Optional<AssignmentStore.Published> publishAssignment(
        AssignmentStore.Stored previous, Assignment next) {
      boolean follows =
          assignment == null
              ? previous == null
              : previous != null && previous.headerVersion() == assignment.headerVersion();
      if (!follows) {
        return Optional.empty();
      }
      int headerVersion = assignment == null ? 0 : assignment.headerVersion() + 1;
      assignment = new AssignmentStore.Stored(next, ++zxid, headerVersion, next.version());
      fire(assignmentWatches);
      return Optional.of(new AssignmentStore.Published(assignment, 0));
    }
  }
}
