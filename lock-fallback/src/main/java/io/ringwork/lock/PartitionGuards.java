package io.ringwork.lock;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.SessionLease;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Partitioner;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;

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

  private static final int STRIPES = 4096;
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final KeyLockCore locks;
  private final Partitioner partitioner;
  private final KeyRouter router;
  private final LockMetrics metrics;
  private final int partitions;
  private final OwnerState state;
  private final FastPathGate gate = new FastPathGate(STRIPES, this::woken);
  private final GuardDrain drain;
  private final OwnerWatch watch;

  PartitionGuards(
      KeyLockCore locks,
      CuratorFramework client,
      SessionLease lease,
      Partitioner partitioner,
      GroupPaths paths,
      LockMetrics metrics) {
    this.locks = locks;
    this.partitioner = partitioner;
    this.router = partitioner.router();
    this.metrics = metrics;
    this.partitions = partitioner.partitions();
    // The grants are guarded by this object's monitor, the one a revocation takes.
    this.state = new OwnerState(this, lease, partitions);
    this.drain = new GuardDrain(gate, STRIPES, metrics, locks.memberId());
    this.watch = new OwnerWatch(locks, client, paths, state, metrics, gate, router);
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
    long session = state.grantSession(); // read once: the guard is of the session it was checked in
    long t = state.fast.get(p);
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
    long session = state.grantSession();
    long t = state.fast.get(p);
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
    int slot = gate.enter(gate.stripeOf(hash), () -> state.free(key, p, t, session));
    if (slot >= 0) {
      metrics.fastGuards.inc();
    }
    return slot;
  }

  /** The fast-path token of a key: the grant's, or its routing key's resume token if higher. */
  private long resumeToken(String key, int end, int p, long t) {
    Map<String, Long> r = state.resume.get(p);
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
    return state.stillOwned(partition, token, session);
  }

  /** The nanoseconds a fast guard of {@code session} may still act, by the session lease. */
  long remainingNanos(long session) {
    return state.remainingNanos(session);
  }

  /**
   * Returns how many times fast guards were still open when their partition was withdrawn or a
   * drain gave up on them: each such guard was invalidated ({@link KeyGuard#ensureValid()} throws,
   * its token is below the next holder's) and logged.
   */
  public long abandonedDrains() {
    return drain.abandoned();
  }

  /**
   * Waits until every fast guard that started before now has closed, up to {@code timeout}: for a
   * close that cannot wait inline (called from a listener callback), before it withdraws the
   * acknowledgement that lets a successor in.
   *
   * @return whether they all closed in time
   */
  public boolean awaitGuardsClosed(Duration timeout) {
    return drain.drainAll(timeout);
  }

  /** Returns whether every granted partition's locks have been listed (its fast path decided). */
  public boolean ready() {
    return watch.ready();
  }

  /** Runs {@code listener} (on the lock service's thread) whenever {@link #ready()} turns true. */
  public void onReady(Runnable listener) {
    watch.onReady(listener);
  }

  // ---------------------------------------------------------------- driven by the rebalancer

  /**
   * Takes the active grants (the rebalancer calls it through {@code OwnerSide.update}): partitions
   * with a non-zero token are this member's. Newly granted partitions get the fast path once their
   * locks are listed; partitions no longer granted lose it at once, and this call waits (up to
   * {@code drainTimeout}) for their fast guards in flight.
   *
   * @param tokens the active token per partition, 0 where none (an empty array: none at all)
   * @param connected whether the session is connected (grants are paused otherwise)
   * @param sessionId the session the grants belong to
   * @return whether every fast guard in flight closed in time, when a grant was withdrawn
   * @throws IllegalArgumentException if {@code tokens} covers another number of partitions
   */
  boolean update(long[] tokens, boolean connected, long sessionId, Duration drainTimeout) {
    if (tokens.length != partitions && tokens.length != 0) {
      throw new IllegalArgumentException(
          "tokens cover " + tokens.length + " partitions, the locks " + partitions);
    }
    OwnerState.Change change = state.update(tokens, connected, sessionId);
    watch.wakeDrains(); // yields waiting for guards of partitions no longer granted give up
    // A zero timeout (a close from a callback, which waits later with awaitGuardsClosed) only
    // closes the fast path: giving up at once would count guards as abandoned that are not.
    boolean drained =
        change.dropped().isEmpty() || drainTimeout.isZero() || drain.drainAll(drainTimeout);
    watch.apply(change);
    return drained;
  }

  /**
   * The gate's wake-up, on the thread that closed the last guard of a watched slot or released a
   * watched drain flag (a guard's own thread, the event thread, or a drain of all stripes): wakes
   * the drains of all stripes that wait, and queues one pass over the waiting yields.
   */
  private void woken(int stripe) {
    drain.wake();
    watch.wakeDrains();
  }

  void close() {
    state.clear();
    watch.close();
  }
}
