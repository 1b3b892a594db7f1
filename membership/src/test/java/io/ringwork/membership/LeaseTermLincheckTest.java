package io.ringwork.membership;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jetbrains.lincheck.Lincheck;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

/**
 * {@link LeaseTerm} under Lincheck's model checker: a lease check against a concurrent stop and
 * against a renewal of another session, at a fixed time (the clock always reads {@code NOW}).
 *
 * <p>Operations: {@code renew(session)} publishes a term of session 1 or 2 that ends after {@code
 * NOW}, {@code renewLate(session)} one that ended before it (an answer that came back too late),
 * {@code expire()} clears the term (session expired, client closed): these three run on one thread,
 * as the renewer does. {@code stop()} (a release) and {@code valid(session)} run on any thread. The
 * results must be linearizable against the same operations run one at a time, whose meaning is the
 * lease's contract: {@code valid(s)} is true only if the latest term before it is of session s and
 * not late, and no stop came before it.
 *
 * <p>Interleavings covered. The model checker may switch threads at every read and write of the
 * term, at every monitor enter and exit, and at the stop flag of the check-then-write publication.
 * {@link #leaseTerm_allInterleavings_linearizable} draws 10 random scenarios of three threads of
 * three operations each (one before and two after them) and explores up to 300 interleavings of
 * each: among them a stop racing with a renewal's publication, a stop between two renewals, a check
 * racing with a renewal of another session, and an expiry racing with a stop. The scenario tests
 * explore up to 500 interleavings of one renewal against a stop followed by a check, the case a
 * check-then-write publication (a volatile stop flag, then a write, no monitor) gets wrong.
 */
final class LeaseTermLincheckTest {

  private static final long NOW = 1_000;
  private static final int INVOCATIONS = 500;

  @Test
  void leaseTerm_allInterleavings_linearizable() {
    options().check(Current.class);
  }

  @Test
  void leaseTerm_stopDuringRenewal_neverValidAfter() {
    Lincheck.runConcurrentTest(INVOCATIONS, () -> renewalAgainstStop(new LeaseTermPublication()));
  }

  @Test
  void checkThenWrite_stopDuringRenewal_isCaught() {
    assertThatThrownBy(
            () ->
                Lincheck.runConcurrentTest(
                    INVOCATIONS, () -> renewalAgainstStop(new CheckThenWritePublication())))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("valid after stop");
  }

  @Test
  void checkThenWrite_randomScenarios_areCaught() {
    assertThatThrownBy(
            () ->
                options().iterations(50).minimizeFailedScenario(false).check(CheckThenWrite.class))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Invalid execution results");
  }

  private static ModelCheckingOptions options() {
    return new ModelCheckingOptions()
        .iterations(10)
        .invocationsPerIteration(300)
        .threads(3)
        .actorsPerThread(3)
        .actorsBefore(1)
        .actorsAfter(2);
  }

  /** The renewer publishes session 1 while another thread stops the lease and then checks it. */
  private static void renewalAgainstStop(Publication lease) {
    boolean[] validAfterStop = new boolean[1];
    Thread renewer = new Thread(() -> lease.renew(1, NOW + 10));
    Thread stopper =
        new Thread(
            () -> {
              lease.stop();
              validAfterStop[0] = lease.valid(1);
            });
    renewer.start();
    stopper.start();
    try {
      renewer.join();
      stopper.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    // Plain checks: Lincheck instruments everything this lambda calls, AssertJ included.
    if (validAfterStop[0] || lease.valid(1)) {
      throw new AssertionError("valid after stop");
    }
  }

  /** A lease's publication, the real one or the one it replaced. */
  interface Publication {
    void renew(long session, long deadline);

    void expire();

    void stop();

    boolean valid(long session);
  }

  /** {@link LeaseTerm}, read at {@code NOW}. */
  static final class LeaseTermPublication implements Publication {
    private final LeaseTerm term = new LeaseTerm(() -> NOW);

    @Override
    public void renew(long session, long deadline) {
      term.publish(new LeaseTerm.Term(session, deadline, 10_000, null));
    }

    @Override
    public void expire() {
      term.publish(LeaseTerm.NONE);
    }

    @Override
    public void stop() {
      term.stop();
    }

    @Override
    public boolean valid(long session) {
      return term.valid(session);
    }
  }

  /** A publication that checks a volatile stop flag and then writes, with no monitor. */
  static final class CheckThenWritePublication implements Publication {
    private record Term(long session, long deadline) {}

    private static final Term NONE = new Term(0, 0);

    private volatile Term term = NONE;
    private volatile boolean stopped;

    @Override
    public void renew(long session, long deadline) {
      if (!stopped) {
        term = new Term(session, deadline);
      }
    }

    @Override
    public void expire() {
      term = NONE;
    }

    @Override
    public void stop() {
      stopped = true;
      term = NONE;
    }

    @Override
    public boolean valid(long session) {
      Term t = term;
      return session != 0 && t.session == session && NOW - t.deadline < 0;
    }
  }

  /** The operations Lincheck draws scenarios from (public: it instantiates and calls them). */
  public abstract static class Operations {
    private final Publication lease;

    Operations(Publication lease) {
      this.lease = lease;
    }

    @Operation(nonParallelGroup = "renewer")
    public void renew(@Param(gen = IntGen.class, conf = "1:2") int session) {
      lease.renew(session, NOW + 10);
    }

    @Operation(nonParallelGroup = "renewer")
    public void renewLate(@Param(gen = IntGen.class, conf = "1:2") int session) {
      lease.renew(session, NOW - 1);
    }

    @Operation(nonParallelGroup = "renewer")
    public void expire() {
      lease.expire();
    }

    @Operation
    public void stop() {
      lease.stop();
    }

    @Operation
    public boolean valid(@Param(gen = IntGen.class, conf = "1:2") int session) {
      return lease.valid(session);
    }
  }

  /** {@link LeaseTerm} as {@code SessionLease} uses it. */
  public static final class Current extends Operations {
    public Current() {
      super(new LeaseTermPublication());
    }
  }

  /** The check-then-write publication. */
  public static final class CheckThenWrite extends Operations {
    public CheckThenWrite() {
      super(new CheckThenWritePublication());
    }
  }
}
