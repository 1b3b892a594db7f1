package io.ringwork.tooz;

import io.ringwork.lock.LockLostException;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.lock.ReleaseOutcome;
import io.ringwork.membership.internal.ListenerGuard;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A held tooz-compatible lock ({@link ToozLocks}): its fencing token and its state, which follows
 * the session. {@link #release()} never throws.
 */
public final class ToozLock implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ToozLock.class);

  private final ToozLocks locks;
  private final String name;
  private final LockMode mode;
  private final String path;
  private final long token;
  private final long session;
  private final List<Runnable> onLost = new CopyOnWriteArrayList<>();
  private LockState state = LockState.HELD;
  private String lostBecause;

  ToozLock(ToozLocks locks, String name, LockMode mode, String path, long token, long session) {
    this.locks = locks;
    this.name = name;
    this.mode = mode;
    this.path = path;
    this.token = token;
    this.session = session;
  }

  /** Returns the lock name (for an election, the group). */
  public String name() {
    return name;
  }

  /** Returns SHARED or EXCLUSIVE. */
  public LockMode mode() {
    return mode;
  }

  /** Returns the contender node's path. */
  public String path() {
    return path;
  }

  /** Returns the fencing token: the contender node's czxid. */
  public long token() {
    return token;
  }

  long session() {
    return session;
  }

  /**
   * Returns HELD, SUSPENDED, LOST or RELEASED. HELD only while the session lease holds (see {@code
   * SessionLease}): past it the lock is SUSPENDED at once, whatever this service's threads do.
   */
  public LockState state() {
    LockState s;
    synchronized (this) {
      s = state;
    }
    return s == LockState.HELD && !locks.lease().valid(session) ? LockState.SUSPENDED : s;
  }

  /** Runs {@code listener} once if the lock is lost (at once if it is already). */
  public void onLost(Runnable listener) {
    boolean now;
    synchronized (this) {
      now = state == LockState.LOST;
      if (!now) {
        onLost.add(listener);
      }
    }
    if (now) {
      listener.run();
    }
  }

  /**
   * Throws unless the lock is HELD.
   *
   * @throws LockLostException naming the lock and why
   */
  public void ensureValid() {
    LockState s = state();
    if (s != LockState.HELD) {
      String why;
      synchronized (this) {
        why =
            lostBecause != null
                ? lostBecause
                : state == LockState.HELD ? "session lease ended" : null;
      }
      throw new LockLostException(
          "tooz lock '" + name + "' is " + s + (why != null ? " (" + why + ")" : ""));
    }
  }

  synchronized void suspend() {
    if (state == LockState.HELD) {
      state = LockState.SUSPENDED;
    }
  }

  synchronized void resume() {
    if (state == LockState.SUSPENDED) {
      state = LockState.HELD;
    }
  }

  void lose(String why) {
    List<Runnable> run;
    synchronized (this) {
      if (state == LockState.LOST || state == LockState.RELEASED) {
        return;
      }
      state = LockState.LOST;
      lostBecause = why;
      run = List.copyOf(onLost);
    }
    ListenerGuard guard = new ListenerGuard(log, "the tooz lock " + name);
    for (Runnable r : run) {
      guard.run(r, r);
    }
  }

  /**
   * Releases the lock: deletes its node (in the background until it succeeds when the connection is
   * down). Never throws.
   *
   * @return RELEASED, ALREADY_LOST or ALREADY_RELEASED
   */
  public ReleaseOutcome release() {
    synchronized (this) {
      if (state == LockState.RELEASED) {
        return ReleaseOutcome.ALREADY_RELEASED;
      }
      boolean lost = state == LockState.LOST;
      state = LockState.RELEASED;
      if (lost) {
        locks.released(this); // the node may still be there if the session lives
        return ReleaseOutcome.ALREADY_LOST;
      }
    }
    locks.released(this);
    return ReleaseOutcome.RELEASED;
  }

  @Override
  public void close() {
    release();
  }

  @Override
  public String toString() {
    return "ToozLock[" + name + " " + mode + " token " + token + " " + state() + "]";
  }
}
