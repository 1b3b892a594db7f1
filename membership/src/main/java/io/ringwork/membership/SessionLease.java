package io.ringwork.membership;

import io.ringwork.membership.internal.DaemonThreads;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionStateListener;
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
 * <p>Only the ensemble's leader expires sessions. It moves a session's expiry to at least the time
 * it is <em>touched</em> plus the negotiated timeout T (its session tracker even rounds up to the
 * next tick). A client's packet touches the session at the server it is connected to; a follower
 * passes its touches on to the leader in its reply to the leader's next PING, which the leader
 * sends every tickTime/2. Nothing another member does because this session ended (take over its
 * partitions, be granted its locks) can happen before that expiry: it is triggered by the deletion
 * of the session's ephemeral nodes.
 *
 * <p>The renewer thread (one per client) sends a synchronous {@code sync("/")} every T/5. A
 * follower forwards a sync to the leader and answers only after the leader did, so a successful
 * renewal k proves that the follower's link to the leader carried messages after it was sent at
 * local time s<sub>k</sub>. The follower touched the session when renewal k−1 arrived (after
 * s<sub>k−1</sub>), and between that touch and forwarding renewal k (T/5 later, at least tickTime/2
 * when T ≥ 2.5 tickTime) it answered at least one PING; TCP delivers that answer before the
 * forwarded sync, which did arrive. So the leader touched the session after s<sub>k−1</sub>, and
 * the session lives until at least s<sub>k−1</sub> + T of the leader's clock. (A client connected
 * to the leader itself touches it directly, after s<sub>k</sub>; the rule below is the conservative
 * one for both.) A follower cut off from the leader cannot answer a sync, so it cannot extend the
 * lease, although it may go on serving reads until its own timeout.
 *
 * <p>After renewal k the deadline is {@code s(k−1) + T × (1 − ρ − γ)} for the session that answered
 * both:
 *
 * <ul>
 *   <li>ρ = 5 % bounds the rate difference between this host's monotonic clock and the leader's.
 *       NTP-disciplined clocks differ by less than 0.05 %; 5 % also covers a virtual machine whose
 *       clock is slewed. A host suspended as a whole (its monotonic clock stopped) is not covered:
 *       that is what fencing tokens are for.
 *   <li>γ = 5 % is the room left between a check that passes and the action it permits (for a 10 s
 *       session, 500 ms): work that takes longer must check {@link #remainingNanos(long)} before it
 *       commits, as Chubby's clients check their lease, and should write with a fencing token.
 * </ul>
 *
 * <p>While the link is healthy the deadline is between 0.5 T and 0.7 T ahead; a new session has a
 * lease T/5 after it started (its second renewal). A renewal only counts when the client is
 * CONNECTED (not read-only) before and after it.
 *
 * <p>The request is synchronous on purpose: ZooKeeper completes a synchronous request on its I/O
 * thread, never on the event thread that runs watchers and Curator callbacks, so a busy event
 * thread, a blocked listener or a Curator retry cannot delay a renewal past the deadline, and
 * cannot extend it either. A renewal that hangs (a silent network) simply stops renewing: the
 * deadline passes on its own, before the leader can expire the session.
 *
 * <p>A lease is of one session: {@link #valid(long)} is true only for the session that answered the
 * last renewals. A client whose session was replaced (expired, or a new handle made by Curator) has
 * no lease for the old one once it has renewed in the new one, and the old one's lease still ends
 * before the old session can expire.
 *
 * <p>A session can also end early: closed by another handle that knows its password (an operator's
 * tool, or a test's instant "expiry"). The lease cannot foresee that, so it also ends the moment
 * the client's handle is told (ZooKeeper's I/O thread marks the handle CLOSED, a volatile state
 * read by every check). Between the server closing the session and the client hearing of it (a
 * round trip when connected) the member may still act: fencing tokens cover that window, as they
 * cover a process paused past its lease.
 *
 * <p>Terms are published through a {@link LeaseTerm}: a renewal answered after a stop is not
 * published.
 *
 * <p>One lease is shared by every component of a client ({@link #acquire(CuratorFramework)} counts
 * references, {@link #release()} stops the renewer when the last one goes).
 */
public final class SessionLease {

  /** The clock-rate margin ρ. */
  public static final double CLOCK_MARGIN = 0.05;

  /** The margin γ between a passing check and the action it permits. */
  public static final double ACT_MARGIN = 0.05;

  /** Renewals per session timeout. */
  static final int RENEWALS_PER_TIMEOUT = 5;

  private static final Logger log = LoggerFactory.getLogger(SessionLease.class);
  private static final Map<CuratorFramework, SessionLease> SHARED = new IdentityHashMap<>();

  private final CuratorFramework client;
  private final Thread renewer;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final ConnectionStateListener wake = (c, state) -> LockSupport.unpark(renewerThread());
  private final LeaseTerm term = new LeaseTerm(System::nanoTime);
  private volatile boolean stopped;
  private int references; // guarded by SHARED

  // Confined to the renewer thread: the send times of the session's recent successful renewals.
  private long previousSession;
  private final ArrayDeque<Long> sends = new ArrayDeque<>();

  private SessionLease(CuratorFramework client) {
    this.client = client;
    this.renewer =
        DaemonThreads.thread("ringwork-lease-" + Integer.toHexString(hash()), this::renewLoop);
  }

  private Thread renewerThread() {
    return renewer;
  }

  private int hash() {
    return System.identityHashCode(client);
  }

  /**
   * Returns the lease of a client's session, starting its renewer on first use. Each call must be
   * matched by exactly one {@link #release()}.
   */
  public static SessionLease acquire(CuratorFramework client) {
    synchronized (SHARED) {
      SessionLease lease = SHARED.get(client);
      if (lease == null) {
        lease = new SessionLease(client);
        SHARED.put(client, lease);
        client.getConnectionStateListenable().addListener(lease.wake);
        lease.renewer.start();
      }
      lease.references++;
      return lease;
    }
  }

  /** Gives back a reference; the renewer stops when none is left. */
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
    client.getConnectionStateListenable().removeListener(wake);
    stopped = true;
    term.stop();
    renewer.interrupt();
  }

  /**
   * Runs {@code listener} on the renewer thread whenever a lease begins: the first one of a
   * session, or one after the lease had lapsed. It must be quick (hand work to another thread).
   */
  public void onLeaseBegins(Runnable listener) {
    listeners.add(listener);
  }

  /** Removes a listener added by {@link #onLeaseBegins(Runnable)}. */
  public void removeListener(Runnable listener) {
    listeners.remove(listener);
  }

  /** Returns whether this process may act on what {@code session} holds, now. */
  public boolean valid(long session) {
    return term.valid(session);
  }

  /**
   * Returns the nanoseconds left for acting on what {@code session} holds; zero or less when the
   * lease of that session has ended (or never was).
   */
  public long remainingNanos(long session) {
    return term.remainingNanos(session);
  }

  /**
   * Returns the {@link System#nanoTime()} at which the lease of {@code session} ends, or {@code
   * Long.MIN_VALUE} when there is none for that session.
   */
  public long deadlineNanos(long session) {
    return term.deadlineNanos(session);
  }

  /** Returns the session the latest renewal was answered in, 0 before the first. */
  public long session() {
    return term.current().session();
  }

  /** Returns the session timeout the server negotiated, or zero before the first renewal. */
  public Duration negotiatedTimeout() {
    return Duration.ofMillis(term.current().timeoutMillis());
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
      try {
        if (client.getState() == CuratorFrameworkState.STOPPED) {
          stopForClosedClient();
          return;
        }
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        if (zk != null && zk.getState() == ZooKeeper.States.CONNECTED) {
          long sent = System.nanoTime();
          zk.sync("/"); // synchronous: through the leader, completed on ZooKeeper's I/O thread
          long session = zk.getSessionId();
          int timeout = zk.getSessionTimeout();
          if (zk.getState() == ZooKeeper.States.CONNECTED && session != 0 && timeout > 0) {
            renewed(session, sent, timeout, zk);
            pauseNanos =
                TimeUnit.MILLISECONDS.toNanos(Math.max(10, timeout / RENEWALS_PER_TIMEOUT));
          }
        }
      } catch (KeeperException.SessionExpiredException e) {
        term.publish(LeaseTerm.NONE); // that session is over for certain
        previousSession = 0;
      } catch (InterruptedException e) {
        if (stopped) {
          return;
        }
      } catch (Exception | Error e) {
        // Connection loss, a closed client, a handle being replaced: no renewal, the deadline runs.
        log.trace("lease renewal failed: {}", e.toString());
      }
      LockSupport.parkNanos(pauseNanos);
    }
  }

  /**
   * Publishes the lease a successful renewal at {@code sent} gives: based on the latest earlier
   * successful renewal of the same session sent at least T/5 before it (so that the follower
   * answered a leader PING in between, see the class comment). A renewal woken early (by a
   * reconnection) renews from an older base, never a newer one.
   */
  private void renewed(long session, long sent, int timeout, ZooKeeper handle) {
    if (session != previousSession) {
      previousSession = session;
      sends.clear();
    }
    long spacing = TimeUnit.MILLISECONDS.toNanos(timeout) / RENEWALS_PER_TIMEOUT;
    long base = 0;
    boolean found = false;
    while (!sends.isEmpty() && sent - sends.peekFirst() >= spacing) {
      base = sends.pollFirst();
      found = true;
    }
    if (found) {
      sends.addFirst(base); // still the best base for the next renewals
    }
    sends.addLast(sent);
    if (!found) {
      return;
    }
    LeaseTerm.Term before = term.current();
    boolean begins = before.session() != session || System.nanoTime() - before.deadline() >= 0;
    long deadline = base + leaseNanos(timeout);
    if (before.session() == session && before.deadline() - deadline > 0) {
      return; // never move a deadline back within a session (an older base after an early wake)
    }
    term.publish(new LeaseTerm.Term(session, deadline, timeout, handle));
    if (begins) {
      for (Runnable l : listeners) {
        try {
          l.run();
        } catch (RuntimeException e) {
          log.warn("lease listener failed", e);
        }
      }
    }
  }

  private void stopForClosedClient() {
    stopped = true;
    term.stop(); // the client is closed: its session is gone, and so is every lease of it
    synchronized (SHARED) {
      if (SHARED.get(client) == this) {
        SHARED.remove(client);
      }
    }
  }
}
