package io.ringwork.lock;

import io.ringwork.membership.SessionLease;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A held lock: a handle, not a thread-owned object. Any thread may release it (a task handed to an
 * executor releases what its submitter acquired, as Ironic's {@code spawn_after} and Heat's thread
 * locks do). It says at all times whether it is still held ({@link #state()}), tells its holder
 * when it is not ({@link #onLost(Runnable)}), and carries a fencing token.
 *
 * <p>{@link #release()} never throws, is idempotent, and deletes only the node this handle created,
 * in its own session. Closing the handle releases it, so it fits try-with-resources.
 */
public final class LockHandle implements AutoCloseable {

  private final HandleHost locks;
  private final LockRequest request;
  private final int partition;
  private final String queue;
  private final String requestId;
  private final List<Runnable> lostListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> revokeListeners = new CopyOnWriteArrayList<>();

  // Guarded by this.
  // Written under this, read without it: a reader never waits for a thread that holds the handle.
  private volatile LockState state = LockState.ACQUIRING;
  private LockMode mode;
  private String path;
  private long token;
  private volatile long session;
  private String upgradePath;
  private LockMode baseMode;
  private String attemptedPrefix;
  private String lostReason;
  private long revokeSeenAt;

  LockHandle(HandleHost locks, LockRequest request, int partition, String queue, String requestId) {
    this.locks = locks;
    this.request = request;
    this.partition = partition;
    this.queue = queue;
    this.requestId = requestId;
    this.mode = request.mode();
  }

  /** Returns the key. */
  public String key() {
    return request.key();
  }

  /** Returns whether the lock covers the key's subtree. */
  public boolean subtree() {
    return request.subtree();
  }

  /** Returns the mode held now (it changes with an upgrade or a downgrade). */
  public synchronized LockMode mode() {
    return mode;
  }

  /**
   * Returns the fencing token: the zxid that created the lock node. It is larger than the token of
   * every earlier conflicting holder of this key, and of the partition grant of every earlier owner
   * fast path on it; it does not change with an upgrade or a downgrade.
   */
  public synchronized long token() {
    return token;
  }

  /** Returns the partition of the key. */
  public int partition() {
    return partition;
  }

  /** Returns the purpose given with the request. */
  public String purpose() {
    return request.purpose();
  }

  /**
   * Returns where the handle stands. A lock whose session lease has ended (see {@code
   * SessionLease}: the server could expire the session soon) is SUSPENDED at once, whatever this
   * service's threads are doing; it is HELD again only if the lease is renewed in the same session.
   */
  public LockState state() {
    LockState s = state;
    if (s == LockState.HELD && !leaseValid()) {
      return LockState.SUSPENDED;
    }
    return s;
  }

  private boolean leaseValid() {
    SessionLease l = locks.lease();
    return l != null && l.valid(session);
  }

  /**
   * Returns the nanoseconds this lock may still be acted on by the session lease, 0 unless it is
   * HELD. Work longer than that should check again before it commits, and write with the token.
   */
  public long remainingNanos() {
    if (state != LockState.HELD) {
      return 0;
    }
    SessionLease l = locks.lease();
    return l == null ? 0 : l.remainingNanos(session);
  }

  /** Returns the lock node's path, for diagnostics. */
  public synchronized String path() {
    return path;
  }

  /** Returns why the lock was lost, or null while it was not. */
  public synchronized String lostReason() {
    return lostReason;
  }

  /**
   * Throws unless the lock is HELD: call it before acting, as a last check (a fenced store is the
   * real guard).
   *
   * @throws LockLostException naming the key and the state when the lock is not HELD
   */
  public void ensureValid() {
    LockState s = state();
    String why = s == LockState.SUSPENDED && state == LockState.HELD ? "session lease ended" : null;
    if (why == null) {
      synchronized (this) {
        why = lostReason;
      }
    }
    if (s != LockState.HELD) {
      throw new LockLostException(
          "lock on "
              + LockKeys.shown(request.key())
              + " is "
              + s
              + (why == null ? "" : " (" + why + ")")
              + ", not HELD");
    }
  }

  /**
   * Runs {@code listener} once, on the lock service's event thread, when the lock is lost (session
   * ended, node deleted by a forced break). If it is already lost, runs it at once.
   */
  public LockHandle onLost(Runnable listener) {
    boolean now;
    synchronized (this) {
      now = state == LockState.LOST;
      if (!now) {
        lostListeners.add(listener);
      }
    }
    if (now) {
      locks.runGuarded(listener, "onLost", request.key());
    }
    return this;
  }

  /**
   * Runs {@code listener} on the lock service's event thread when someone asks this holder to give
   * the lock up ({@link KeyLocks#requestRevoke(String, String)}). Giving it up is the holder's
   * choice.
   */
  public LockHandle onRevokeRequested(Runnable listener) {
    revokeListeners.add(listener);
    return this;
  }

  /**
   * Releases the lock. Never throws; idempotent.
   *
   * @return RELEASED, ALREADY_LOST (nothing deleted), ALREADY_RELEASED, or PENDING (connection
   *     down: the node is deleted in the background)
   */
  public ReleaseOutcome release() {
    LockState before;
    synchronized (this) {
      before = state;
      if (before == LockState.RELEASED) {
        return ReleaseOutcome.ALREADY_RELEASED;
      }
      state = LockState.RELEASED;
    }
    return locks.released(this, before);
  }

  /** Releases the lock (see {@link #release()}). */
  @Override
  public void close() {
    release();
  }

  /**
   * Tries to turn this SHARED or UPGRADABLE hold EXCLUSIVE at once, keeping the token.
   *
   * @throws UpgradeConflictException naming the hold or request in the way, within one round trip;
   *     the lock is still held in its previous mode
   * @throws LockLostException if the lock is not HELD
   * @throws IllegalStateException if it is EXCLUSIVE already
   */
  public void tryUpgrade() throws UpgradeConflictException, InterruptedException {
    try {
      locks.upgrade(this, Duration.ZERO);
    } catch (UpgradeConflictException e) {
      throw e;
    } catch (LockTimeoutException e) {
      throw new UpgradeConflictException(e.getMessage(), e.blocker());
    } catch (LockException e) {
      throw new UpgradeConflictException(e.getMessage(), "?");
    }
  }

  /**
   * Turns this UPGRADABLE hold EXCLUSIVE, waiting up to {@code timeout} for the SHARED holders
   * present to go; later requests wait behind the upgrade. It cannot deadlock: only one UPGRADABLE
   * holder exists per key. A SHARED hold cannot wait to upgrade (two such would wait for each
   * other): use {@link #tryUpgrade()}, or acquire UPGRADABLE.
   *
   * @throws LockTimeoutException naming the holder still in the way; the lock stays UPGRADABLE
   * @throws IllegalStateException if the hold is not UPGRADABLE
   * @throws LockLostException if the lock is not HELD
   */
  public void upgrade(Duration timeout) throws LockTimeoutException, InterruptedException {
    synchronized (this) {
      if (mode != LockMode.UPGRADABLE) {
        throw new IllegalStateException(
            "only an UPGRADABLE hold can wait to upgrade; "
                + LockKeys.shown(request.key())
                + " is held "
                + mode
                + (mode == LockMode.SHARED ? " (use tryUpgrade, which fails fast)" : ""));
      }
    }
    try {
      locks.upgrade(this, timeout);
    } catch (LockTimeoutException e) {
      throw e;
    } catch (UpgradeConflictException e) {
      throw new LockTimeoutException(e.getMessage(), e.blocker());
    } catch (LockException e) {
      throw new LockTimeoutException(e.getMessage(), "?");
    }
  }

  /**
   * Lowers an EXCLUSIVE hold to SHARED or UPGRADABLE in one write, keeping its place and token:
   * nobody queued for EXCLUSIVE gets in between.
   *
   * @throws IllegalArgumentException if {@code target} is not lower than the mode held
   * @throws LockLostException if the lock is not HELD
   */
  public void downgrade(LockMode target) {
    locks.downgrade(this, target);
  }

  @Override
  public synchronized String toString() {
    return "LockHandle["
        + request.key()
        + (request.subtree() ? "/**" : "")
        + " "
        + mode
        + " token="
        + token
        + " "
        + state
        + "]";
  }

  // ---------------------------------------------------------------- used by the lock service

  LockRequest request() {
    return request;
  }

  String queue() {
    return queue;
  }

  String requestId() {
    return requestId;
  }

  synchronized void created(String nodePath, long czxid, long sessionId) {
    this.path = nodePath;
    this.token = czxid;
    this.session = sessionId;
  }

  synchronized long session() {
    return session;
  }

  synchronized String upgradePath() {
    return upgradePath;
  }

  synchronized void upgraded(String nodePath) {
    this.upgradePath = nodePath;
    this.baseMode = mode;
    this.mode = LockMode.EXCLUSIVE;
  }

  synchronized LockMode baseMode() {
    return baseMode;
  }

  synchronized void attempted(String prefix) {
    this.attemptedPrefix = prefix;
  }

  synchronized String attemptedPrefix() {
    return attemptedPrefix;
  }

  synchronized void downgraded(LockMode target) {
    this.upgradePath = null;
    this.mode = target;
  }

  /** ACQUIRING -> HELD; false if released or lost meanwhile. */
  synchronized boolean held() {
    if (state != LockState.ACQUIRING) {
      return false;
    }
    state = LockState.HELD;
    return true;
  }

  synchronized boolean suspend() {
    if (state != LockState.HELD) {
      return false;
    }
    state = LockState.SUSPENDED;
    return true;
  }

  synchronized boolean resume() {
    if (state != LockState.SUSPENDED) {
      return false;
    }
    state = LockState.HELD;
    return true;
  }

  /** HELD or SUSPENDED -> LOST; runs the listeners (on the caller, the event thread). */
  void lose(String reason) {
    synchronized (this) {
      if (state != LockState.HELD && state != LockState.SUSPENDED) {
        return;
      }
      state = LockState.LOST;
      lostReason = reason;
    }
    locks.lostHold(this);
    for (Runnable l : lostListeners) {
      locks.runGuarded(l, "onLost", request.key());
    }
  }

  /** Runs the revoke listeners once per request (by its time). */
  void revokeRequested(long at) {
    synchronized (this) {
      if (at <= revokeSeenAt || (state != LockState.HELD && state != LockState.SUSPENDED)) {
        return;
      }
      revokeSeenAt = at;
    }
    for (Runnable l : revokeListeners) {
      locks.runGuarded(l, "onRevokeRequested", request.key());
    }
  }

  synchronized boolean isActive() {
    return state == LockState.ACQUIRING || state == LockState.HELD || state == LockState.SUSPENDED;
  }
}
