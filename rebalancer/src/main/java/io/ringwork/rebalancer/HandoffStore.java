package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import java.util.List;
import java.util.Optional;

/**
 * What a handoff needs of the group's storage, as one member sees it: its own acknowledgement, the
 * barrier, the leader's read of every acknowledgement after a read point, and the assignment a
 * coordinated leader publishes, each with a watch that says when it changed. {@link Handoff} keeps
 * the protocol (what to write when, and what a read proves) and {@link CoordinatedMode} the
 * placement; this interface keeps where and how the facts are stored. {@link ZooKeeperHandoffStore}
 * is the production store; a test may run a whole handoff over an in-memory one.
 *
 * <p>What the protocol relies on, and any store must give: an acknowledgement belongs to the
 * session that wrote it and goes when that session ends; every write has a position in one total
 * order of the group's writes (its zxid), which rises; a read made after {@link #markReadPoint()}
 * returned R sees every write ordered before R. Listeners may be called on any thread.
 */
interface HandoffStore {

  /** The zxid of a change whose position in the order of writes is not known. */
  long NO_ZXID = -1;

  /** A watch; closing it stops the notifications. Quiet. */
  interface Watch extends AutoCloseable {
    @Override
    void close();
  }

  /** Told of a change to the acknowledgements. */
  @FunctionalInterface
  interface AckListener {
    /**
     * The acknowledgement of member {@code id} was written or went, at {@code zxid} (or {@link
     * #NO_ZXID}); {@code id} is null for a change of the acknowledgements' parent.
     */
    void changed(String id, long zxid);
  }

  /**
   * What the leader read after a read point: the barrier in place, every acknowledgement it could
   * read, and the ids of those it could not decode (they block the handoff until they go).
   */
  record AckRead(Handoff.Barrier barrier, List<Handoff.Ack> acks, List<String> unreadable) {}

  /**
   * Writes this member's acknowledgement of {@code state} in {@code session}, replacing one left by
   * an earlier session of this member; returns the zxid of the write.
   *
   * @throws IllegalStateException if another live session holds this member's acknowledgement, or
   *     the session changed while writing
   */
  long writeAck(HandoffState state, long incarnation, long session) throws Exception;

  /**
   * Deletes the acknowledgement this member last wrote, only if {@code session} owns it: now, or
   * once connected again in that session. Quiet.
   */
  void withdrawAck(long session);

  /** Watches the barrier; {@code onChange} runs after each change of it. */
  Watch watchBarrier(Runnable onChange);

  /** The barrier as the barrier watch last saw it; {@link Handoff.Barrier#NONE} without one. */
  Handoff.Barrier barrier();

  /** Watches every acknowledgement of the group (the leader does). */
  Watch watchAcks(AckListener listener);

  /** Writes the leader's clock and returns the zxid of that write: a point later reads see past. */
  long markReadPoint() throws Exception;

  /**
   * Reads the barrier and every acknowledgement, all in one read that reflects every earlier write.
   */
  AckRead readAcks() throws Exception;

  /** Writes the barrier: every acknowledgement read at {@code readPoint} names {@code state}. */
  void writeBarrier(HandoffState state, long readPoint) throws Exception;

  /** Watches the published assignment; {@code onChange} runs after each change of its header. */
  Watch watchAssignment(Runnable onChange);

  /**
   * Reads the published assignment, bringing {@code cached} (may be null) forward when it can; null
   * when none has been published.
   *
   * @throws CorruptAssignmentException if the stored data cannot be decoded
   * @throws ClosedException if the store's client is closed
   */
  AssignmentStore.Stored readAssignment(AssignmentStore.Stored cached) throws Exception;

  /**
   * As {@link #readAssignment}, starting from the assignment watch's copy of the header when it has
   * one (one read less per member and change).
   *
   * @throws CorruptAssignmentException if the stored data cannot be decoded
   * @throws ClosedException if the store's client is closed
   */
  AssignmentStore.Stored readWatchedAssignment(AssignmentStore.Stored cached) throws Exception;

  /**
   * Publishes {@code next} after {@code previous} (null when there is none); empty when another
   * publisher moved the assignment meanwhile (the caller reads again).
   *
   * @throws ClosedException if the store's client is closed
   */
  Optional<AssignmentStore.Published> publishAssignment(
      AssignmentStore.Stored previous, Assignment next) throws Exception;

  /** The store's client is closed: the rebalancer is closing, and nothing is read any more. */
  final class ClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ClosedException(Throwable cause) {
      super("the store's client is closed", cause);
    }
  }
}
