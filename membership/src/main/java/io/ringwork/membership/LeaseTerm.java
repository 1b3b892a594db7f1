package io.ringwork.membership;

import java.util.function.LongSupplier;
import org.apache.zookeeper.ZooKeeper;

/**
 * The published state of a {@link SessionLease}: the latest renewal's session and deadline, swapped
 * whole through one volatile field, and a stop that no renewal can undo.
 *
 * <p>One renewer thread publishes terms; any thread reads them; {@link #stop()} may run on any
 * thread at any time, also while a renewal is being published. A renewal that was sent before the
 * stop and answered after it must not bring the lease back, so publishing and stopping take one
 * monitor: a publication either happens before the stop (which then overwrites it) or sees the stop
 * and publishes nothing. Checking a volatile stop flag and then writing, without the monitor, would
 * lose a stop that falls between the check and the write. Readers take no lock: they read one term
 * whole, so {@link #valid} is true only for the session of the latest term, before its deadline and
 * while its handle is alive, and never after a stop or after a term of another session is
 * published.
 *
 * <p>{@code LeaseTermLincheckTest} checks this with Lincheck's model checker: interleavings of a
 * renewer (publish, end), a stopper and readers, at a fixed time, must be linearizable against the
 * sequential behaviour (a read after a stop or after another session's term is false); the same
 * test shows that the check-then-write publication fails it.
 */
final class LeaseTerm {

  /** One renewal's outcome, and the handle whose session it is (null in tests). */
  record Term(long session, long deadline, int timeoutMillis, ZooKeeper handle) {
    /**
     * Whether the handle still believes in its session: ZooKeeper's I/O thread marks it CLOSED the
     * moment the server tells it the session is gone (a volatile write, no event thread involved),
     * which ends the lease at once when a session was closed or expired early.
     */
    boolean alive() {
      return handle == null || handle.getState().isAlive();
    }
  }

  /** No lease: before the first renewal, after a session expired, after a stop. */
  static final Term NONE = new Term(0, 0, 0, null);

  private final LongSupplier nanoClock;
  private volatile Term term = NONE;
  private boolean stopped; // guarded by this

  LeaseTerm(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** Publishes {@code next} ({@link #NONE} ends the lease); publishes nothing once stopped. */
  synchronized void publish(Term next) {
    if (!stopped) {
      term = next;
    }
  }

  /** Ends the lease for good: no term published after this is ever seen. */
  synchronized void stop() {
    stopped = true;
    term = NONE;
  }

  /** Returns the latest term. */
  Term current() {
    return term;
  }

  /** Returns whether {@code session} has a lease now. */
  boolean valid(long session) {
    Term t = term;
    return session != 0
        && t.session == session
        && nanoClock.getAsLong() - t.deadline < 0
        && t.alive();
  }

  /** Returns the nanoseconds left on the lease of {@code session}; zero when it has none. */
  long remainingNanos(long session) {
    Term t = term;
    if (session == 0 || t.session != session || !t.alive()) {
      return 0;
    }
    return Math.max(0, t.deadline - nanoClock.getAsLong());
  }

  /** Returns the deadline of {@code session}'s lease, or {@code Long.MIN_VALUE} when none. */
  long deadlineNanos(long session) {
    Term t = term;
    return session != 0 && t.session == session && t.alive() ? t.deadline : Long.MIN_VALUE;
  }
}
