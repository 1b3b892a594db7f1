package io.ringwork.membership;

import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local lease on this client's ZooKeeper session: until when this process may act on what its
 * session holds (grants, fast-path guards, locks), derived from what the server last confirmed and
 * read with no thread hop, so that it holds even when every other thread of the member is stuck.
 *
 * <h2>The argument</h2>
 *
 * <p>A ZooKeeper server expires a session when it has heard nothing from its client for the
 * negotiated session timeout T: every packet it receives from the client <em>touches</em> the
 * session and moves its expiry to at least the time of receipt plus T (the session tracker even
 * rounds up to its next tick). A request that this client sends at local time s and that succeeds
 * was received by the server after s, so the session cannot expire before s + T of the server's
 * time. Nothing another member does because this session ended (take over its partitions, be
 * granted its locks) can happen before that expiry, because it is triggered by the deletion of this
 * session's ephemeral nodes.
 *
 * <p>So this class keeps one renewer thread per client that does nothing but send a synchronous
 * {@code exists("/")} and, when it succeeds, sets the deadline to {@code s + T × (1 − ρ − γ)} for
 * the session that answered:
 *
 * <ul>
 *   <li>ρ = 5 % bounds the rate difference between this host's monotonic clock and the server's.
 *       NTP-disciplined clocks differ by less than 0.05 %; 5 % also covers a virtual machine whose
 *       clock is slewed.
 *   <li>γ = 5 % is the room left between a check that passes and the action it permits (for a 10 s
 *       session, 500 ms): work that takes longer must check {@link #remainingNanos(long)} before it
 *       commits, as Chubby's clients check their lease, and should write with a fencing token.
 * </ul>
 *
 * <p>The request is synchronous on purpose: ZooKeeper completes a synchronous request on its I/O
 * thread, never on the event thread that runs watchers and Curator callbacks, so a busy event
 * thread, a blocked listener or a Curator retry cannot delay a renewal past the deadline, and
 * cannot extend it either. A renewal that hangs (a silent network) simply stops renewing: the
 * deadline passes on its own, at most T × 0.9 after the last successful request was sent, which is
 * before the server can expire the session. The renewer sends one request every T/4 (for a 10 s
 * session, one every 2.5 s; ZooKeeper's own pings go every T/3 when the client is idle and are
 * skipped while it is not, so this adds almost nothing to the traffic). The deadline is therefore
 * between 0.65 T and 0.9 T ahead while the link is healthy.
 *
 * <p>A lease is of one session: {@link #valid(long)} is true only for the session that answered the
 * last renewal. A client whose session was replaced (expired, or a new handle made by Curator) has
 * no lease for the old one, so grants and locks taken in the old session are void at once, whatever
 * the events announcing it are doing.
 *
 * <p>One lease is shared by every component of a client ({@link #acquire(CuratorFramework)} counts
 * references, {@link #release()} stops the renewer when the last one goes).
 */
public final class SessionLease {

  /** The clock-rate margin ρ. */
  public static final double CLOCK_MARGIN = 0.05;

  /** The margin γ between a passing check and the action it permits. */
  public static final double ACT_MARGIN = 0.05;

  private static final Logger log = LoggerFactory.getLogger(SessionLease.class);
  private static final Map<CuratorFramework, SessionLease> SHARED = new IdentityHashMap<>();

  /** One renewal's outcome, published whole through one volatile field. */
  private record Term(long session, long deadline, int timeoutMillis) {}

  private static final Term NONE = new Term(0, 0, 0);

  private final CuratorFramework client;
  private final Thread renewer;
  private volatile Term term = NONE;
  private volatile boolean stopped;
  private int references; // guarded by SHARED

  private SessionLease(CuratorFramework client) {
    this.client = client;
    this.renewer = new Thread(this::renewLoop, "ringwork-lease-" + Integer.toHexString(hash()));
    renewer.setDaemon(true);
  }

  private int hash() {
    return System.identityHashCode(client);
  }

  /**
   * Returns the lease of a client's session, starting its renewer on first use. Each call must be
   * matched by one {@link #release()}.
   */
  public static SessionLease acquire(CuratorFramework client) {
    synchronized (SHARED) {
      SessionLease lease = SHARED.get(client);
      if (lease == null) {
        lease = new SessionLease(client);
        SHARED.put(client, lease);
        lease.renewer.start();
      }
      lease.references++;
      return lease;
    }
  }

  /** Gives back a reference; the renewer stops when none is left. Idempotent per reference. */
  public void release() {
    synchronized (SHARED) {
      if (references == 0) {
        return;
      }
      if (--references > 0) {
        return;
      }
      SHARED.remove(client);
    }
    stopped = true;
    term = NONE;
    renewer.interrupt();
  }

  /** Returns whether this process may act on what {@code session} holds, now. */
  public boolean valid(long session) {
    Term t = term;
    return session != 0 && t.session == session && System.nanoTime() - t.deadline < 0;
  }

  /**
   * Returns the nanoseconds left for acting on what {@code session} holds; zero or less when the
   * lease of that session has ended (or never was).
   */
  public long remainingNanos(long session) {
    Term t = term;
    if (session == 0 || t.session != session) {
      return 0;
    }
    return Math.max(0, t.deadline - System.nanoTime());
  }

  /**
   * Returns the {@link System#nanoTime()} at which the lease of {@code session} ends, or {@code
   * Long.MIN_VALUE} when there is none for that session.
   */
  public long deadlineNanos(long session) {
    Term t = term;
    return session != 0 && t.session == session ? t.deadline : Long.MIN_VALUE;
  }

  /** Returns the session the latest renewal was answered in, 0 before the first. */
  public long session() {
    return term.session;
  }

  /** Returns the session timeout the server negotiated, or zero before the first renewal. */
  public Duration negotiatedTimeout() {
    return Duration.ofMillis(term.timeoutMillis);
  }

  /**
   * Waits up to {@code timeout} for a lease of {@code session} (a renewal after joining).
   *
   * @return whether the lease is valid
   */
  public boolean awaitValid(long session, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    LockSupport.unpark(renewer);
    while (!valid(session)) {
      if (System.nanoTime() - end > 0 || stopped) {
        return false;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    return true;
  }

  /** The length of a lease for a negotiated session timeout of {@code timeoutMillis}. */
  static long leaseNanos(int timeoutMillis) {
    return (long) (TimeUnit.MILLISECONDS.toNanos(timeoutMillis) * (1 - CLOCK_MARGIN - ACT_MARGIN));
  }

  private void renewLoop() {
    while (!stopped) {
      long pauseNanos = TimeUnit.MILLISECONDS.toNanos(20);
      if (client.getState() == CuratorFrameworkState.STOPPED) {
        term = NONE; // the client is closed: its session is gone, and so is every lease of it
        pauseNanos = TimeUnit.MILLISECONDS.toNanos(200);
        LockSupport.parkNanos(pauseNanos);
        continue;
      }
      try {
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        if (zk != null && zk.getState().isConnected()) {
          long sent = System.nanoTime();
          zk.exists("/", false); // synchronous: completed on ZooKeeper's I/O thread
          long session = zk.getSessionId();
          int timeout = zk.getSessionTimeout();
          if (!stopped && session != 0 && timeout > 0) {
            term = new Term(session, sent + leaseNanos(timeout), timeout);
            pauseNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(10, timeout / 4));
          }
        }
      } catch (KeeperException.SessionExpiredException e) {
        term = NONE; // that session is over for certain
      } catch (InterruptedException e) {
        if (stopped) {
          return;
        }
      } catch (Exception e) {
        // Connection loss, a closed client, a handle being replaced: no renewal, the deadline runs.
        log.trace("lease renewal failed: {}", e.toString());
      }
      LockSupport.parkNanos(pauseNanos);
    }
  }
}
