package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.test.StrictHistory.Hold;
import io.ringwork.test.StrictHistory.Incarnation;
import io.ringwork.test.StrictHistory.Mode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The strict history against hand-made histories: each violation is caught, and the one excuse (an
 * earlier holder whose session ended on the server, stopped within the lease bound, and a successor
 * admitted after that end) is the only thing it lets pass.
 */
final class StrictHistoryTest {

  private static final Duration BOUND = Duration.ofMillis(100);
  private static final Incarnation A = new Incarnation("w1", 0x11);
  private static final Incarnation A2 = new Incarnation("w1", 0x12);
  private static final Incarnation B = new Incarnation("w2", 0x21);

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final StrictHistory history = StrictHistory.withClock(now::get);

  private void at(long millis) {
    now.set(1_000_000_000L + millis * 1_000_000L);
  }

  @Test
  void grants_oneAfterTheOther_risingTokens_clean() {
    at(0);
    history.grantRead(A, 3, 10);
    at(50);
    history.grantRead(A, 3, 10);
    at(60);
    history.grantRead(B, 3, 20);
    at(90);
    history.grantRead(B, 3, 20);
    assertThat(history.violations(BOUND)).isEmpty();
    assertThat(history.size()).isEqualTo(2);
    history.assertStrict(BOUND);
  }

  @Test
  void grants_overlapBetweenMembers_fails_namingBothHolds() {
    at(0);
    history.grantRead(A, 3, 10);
    at(40);
    history.grantRead(B, 3, 20);
    at(50);
    history.grantRead(A, 3, 10); // A still told it holds partition 3
    assertThat(history.violations(BOUND))
        .singleElement()
        .asString()
        .contains("partition 3")
        .contains("w1#11 (grant, token 10, 0.000 s to 0.050 s)")
        .contains("w2#21 (grant, token 20, 0.040 s to 0.040 s)")
        .contains("overlapped from 0.040 s to 0.040 s")
        .contains("w1#11's session had not ended on the server");
    assertThatThrownBy(() -> history.assertStrict(BOUND))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("1 violation(s)");
  }

  @Test
  void overlap_earlierSessionEndedAndHoldStoppedWithinBound_excused() {
    at(0);
    Hold a = history.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(100);
    history.sessionEnded(A, 0);
    at(120);
    Hold b = history.guardOpened(B, "k", 3, Mode.EXCLUSIVE, 20, true);
    at(150);
    a.close(); // 50 ms after its session ended: within the 100 ms bound
    at(160);
    b.close();
    assertThat(history.violations(BOUND)).isEmpty();
  }

  @Test
  void overlap_earlierHoldOutlivedTheBound_fails() {
    at(0);
    Hold a = history.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(100);
    history.sessionEnded(A, 0);
    at(120);
    Hold b = history.guardOpened(B, "k", 3, Mode.EXCLUSIVE, 20, true);
    at(130);
    b.close();
    at(201);
    a.close(); // 101 ms after its session ended: past the bound
    assertThat(history.violations(BOUND))
        .isNotEmpty()
        .allSatisfy(
            v ->
                assertThat(v)
                    .contains("its hold ended 101.0 ms later, past the lease bound of 100.0 ms"));
    assertThat(history.violations(Duration.ofMillis(101))).isEmpty();
  }

  @Test
  void overlap_successorAdmittedBeforeTheSessionEnded_fails_unlessItsTokenIsAboveTheEnd() {
    at(0);
    Hold a = history.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(50);
    Hold b = history.guardOpened(B, "k", 3, Mode.EXCLUSIVE, 20, true);
    at(100);
    history.sessionEnded(A, 15); // B's token 20 is above the end's zxid: it was admitted after
    at(110);
    a.close();
    b.close();
    assertThat(history.violations(BOUND)).isEmpty();

    StrictHistory noZxid = StrictHistory.withClock(now::get);
    at(0);
    Hold a2 = noZxid.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(50);
    Hold b2 = noZxid.guardOpened(B, "k", 3, Mode.EXCLUSIVE, 20, true);
    at(100);
    noZxid.sessionEnded(A, 25); // B's token is below the end's zxid, and it started before
    at(110);
    a2.close();
    b2.close();
    assertThat(noZxid.violations(BOUND))
        .isNotEmpty()
        .allSatisfy(v -> assertThat(v).contains("w2#21 was admitted 50.0 ms before w1#11's"));
  }

  @Test
  void excusingOnlyForcedEnds_anOverlapAfterAnExpiryFails_afterAForcedCloseIsExcusedAndListed() {
    StrictHistory leased = StrictHistory.withClock(now::get).excusingOnlyForcedEnds();
    at(0);
    Hold a = leased.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(100);
    leased.sessionEnded(A, 15); // the server expired A: its lease had to end before this
    at(110);
    Hold b = leased.guardOpened(B, "k", 3, Mode.EXCLUSIVE, 20, true);
    at(120);
    a.close(); // 20 ms after the expiry: within the bound, but an expiry excuses nothing here
    b.close();
    assertThat(leased.violations(BOUND)) // on the key and on the partition the fast guard claims
        .hasSize(2)
        .allSatisfy(v -> assertThat(v).contains("w1#11's session expired on the server"));

    StrictHistory forced = StrictHistory.withClock(now::get).excusingOnlyForcedEnds();
    at(0);
    Hold c = forced.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(100);
    forced.sessionClosed(A, 0); // closed by another handle: no lease can foresee it
    forced.sessionEnded(A, 15); // the watcher's later sighting keeps it forced
    at(110);
    Hold d = forced.guardOpened(B, "k", 3, Mode.EXCLUSIVE, 20, true);
    at(120);
    c.close();
    d.close();
    assertThat(forced.violations(BOUND)).isEmpty();
    assertThat(forced.excused())
        .hasSize(2)
        .allSatisfy(e -> assertThat(e).contains("w1#11").contains("fencing covers it"));
  }

  @Test
  void overlap_twoIncarnationsOfOneMember_fails() {
    at(0);
    history.grantRead(A, 7, 10);
    at(30);
    history.grantRead(A2, 7, 30);
    at(60);
    history.grantRead(A, 7, 10); // the old session's grant still read after the rejoin
    assertThat(history.violations(BOUND))
        .singleElement()
        .asString()
        .contains("partition 7")
        .contains("w1#11")
        .contains("w1#12");
  }

  @Test
  void holdsOfOneIncarnation_neverConflict() {
    at(0);
    history.grantRead(A, 7, 10);
    Hold g1 = history.guardOpened(A, "k", 7, Mode.EXCLUSIVE, 10, true);
    Hold g2 = history.guardOpened(A, "k", 7, Mode.EXCLUSIVE, 10, true);
    at(10);
    g1.close();
    g2.close();
    history.grantRead(A, 7, 10);
    assertThat(history.violations(BOUND)).isEmpty();
  }

  @Test
  void fallingOrEqualToken_fails_evenWithoutOverlap() {
    at(0);
    history.grantRead(A, 1, 50);
    at(10);
    history.grantRead(B, 1, 40);
    at(20);
    Hold l1 = history.lockAcquired(A, "x", Mode.EXCLUSIVE, 70);
    at(30);
    l1.close();
    Hold l2 = history.lockAcquired(B, "x", Mode.EXCLUSIVE, 70);
    at(40);
    l2.close();
    assertThat(history.violations(BOUND))
        .hasSize(2)
        .anySatisfy(
            v ->
                assertThat(v)
                    .contains("partition 1: token did not rise")
                    .contains("token 50")
                    .contains("token 40"))
        .anySatisfy(
            v ->
                assertThat(v)
                    .contains("key 'x': token did not rise")
                    .contains("w1#11 (lock exclusive, token 70"));
  }

  @Test
  void shared_mayOverlapShared_butNotExclusive() {
    at(0);
    Hold r1 = history.lockAcquired(A, "x", Mode.SHARED, 10);
    Hold r2 = history.lockAcquired(B, "x", Mode.SHARED, 11);
    at(10);
    r1.close();
    r2.close();
    assertThat(history.violations(BOUND)).isEmpty();

    at(20);
    Hold r3 = history.lockAcquired(A, "x", Mode.SHARED, 12);
    at(25);
    Hold w = history.lockAcquired(B, "x", Mode.EXCLUSIVE, 13);
    at(30);
    r3.close();
    w.close();
    assertThat(history.violations(BOUND))
        .singleElement()
        .asString()
        .contains("key 'x'")
        .contains("lock shared")
        .contains("lock exclusive");
  }

  @Test
  void foreignLock_overlapsOwnersFastGuard_fails_andAFastGuardClaimsItsPartition() {
    at(0);
    history.grantRead(A, 4, 10);
    Hold fast = history.guardOpened(A, "k", 4, Mode.SHARED, 10, true); // fast path: EXCLUSIVE
    at(5);
    Hold foreign = history.lockAcquired(B, "k", Mode.SHARED, 15);
    at(10);
    foreign.close();
    fast.close();
    assertThat(history.violations(BOUND))
        .singleElement()
        .asString()
        .contains("key 'k'")
        .contains("w1#11 (fast guard, token 10")
        .contains("w2#21 (lock shared, token 15");

    StrictHistory moved = StrictHistory.withClock(now::get);
    at(20);
    Hold hung = moved.guardOpened(A, "k", 4, Mode.EXCLUSIVE, 10, true);
    at(30);
    moved.grantRead(B, 4, 30); // the partition moved while A's fast guard was open
    at(40);
    hung.close();
    assertThat(moved.violations(BOUND))
        .singleElement()
        .asString()
        .contains("partition 4")
        .contains("fast guard");
  }

  @Test
  void withdrawal_endsOpenGuards_butOnlyWithinTheBoundExcuses() {
    at(0);
    Hold a = history.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(100);
    history.sessionEnded(A, 0);
    at(150);
    history.withdrawn(A); // onLost: the library voided A's holds 50 ms after the server did
    at(200);
    Hold b = history.guardOpened(B, "k", 3, Mode.EXCLUSIVE, 20, true);
    at(5_000);
    a.close(); // a paused thread closes its guard much later: fencing's job, not an overlap
    b.close();
    assertThat(history.violations(BOUND)).isEmpty();

    StrictHistory late = StrictHistory.withClock(now::get);
    at(0);
    Hold a2 = late.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(100);
    late.sessionEnded(A, 0);
    at(150);
    Hold b2 = late.guardOpened(B, "k", 3, Mode.EXCLUSIVE, 20, true);
    at(400);
    late.withdrawn(A); // heard of its session's end 300 ms late (a frozen member)
    at(5_000);
    a2.close();
    b2.close();
    assertThat(late.violations(BOUND))
        .hasSize(2) // on the key, and on the partition the fast guards claim
        .allSatisfy(v -> assertThat(v).contains("its hold ended 300.0 ms later"));
  }

  @Test
  void openHold_lastsUntilNow() {
    at(0);
    history.guardOpened(A, "k", 3, Mode.EXCLUSIVE, 10, true);
    at(10);
    Hold foreign = history.lockAcquired(B, "k", Mode.EXCLUSIVE, 20);
    at(20);
    foreign.close();
    assertThat(history.violations(BOUND)).singleElement().asString().contains("to open");
  }

  @Test
  @Timeout(30)
  void longHistory_onePartition_isCheckedInNLogN() {
    Incarnation[] owners = {A, B, A2};
    for (int i = 0; i < 200_000; i++) {
      at(i);
      Incarnation who = owners[i / 1000 % 3];
      long token = 1 + i / 1000; // each new owner's token is higher
      history.grantRead(who, 0, token);
      history.guardOpened(who, "k" + i % 50, 0, Mode.EXCLUSIVE, token, true).close();
    }
    assertThat(history.size()).isEqualTo(200_200);
    assertThat(history.violations(BOUND)).isEmpty();
  }

  @Test
  void badInput_isRefused_namingTheArgument() {
    at(10);
    Hold h = history.lockAcquired(A, "k", Mode.EXCLUSIVE, 1);
    assertThatThrownBy(() -> h.close(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot end before it starts");
    assertThatThrownBy(() -> history.violations(Duration.ofMillis(-1)))
        .hasMessageContaining("leaseBound must not be negative");
    assertThatThrownBy(() -> new Incarnation(null, 1)).hasMessageContaining("member");
  }

  @Test
  void fencedStore_staleAcceptedWrite_isCounted() {
    FencedStore store = new FencedStore();
    store.issued("k", 10);
    assertThat(store.write("k", 10)).isTrue();
    store.issued("k", 20); // a successor was given the key ...
    assertThat(store.write("k", 10)).isTrue(); // ... but the old holder wrote first: stale
    assertThat(store.write("k", 20)).isTrue();
    assertThat(store.write("k", 10)).isFalse(); // now the fence sees it
    assertThat(store.write("other", 5)).isTrue(); // nothing issued for it: not stale
    assertThat(store.accepted()).isEqualTo(4);
    assertThat(store.rejected()).isEqualTo(1);
    assertThat(store.staleAccepted()).isEqualTo(1);
    assertThat(store.staleWrites())
        .containsExactly("k: accepted token 10 after token 20 was issued");
    assertThat(store.highestIssued("k")).isEqualTo(20);
  }
}
