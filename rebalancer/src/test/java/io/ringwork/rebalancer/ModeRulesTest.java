package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.Membership;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Placement;
import io.ringwork.ring.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The activation rules without ZooKeeper: what the leader's check counts as agreement, when a
 * barrier covers an acknowledgement, and what each mode revokes, keeps and activates. The modes run
 * against a fake host that records what they ask for.
 */
final class ModeRulesTest {

  /** A host that runs scheduled work at once and records every installed state. */
  private static final class FakeHost implements Mode.Host {
    List<Member> eligible = new ArrayList<>();
    final List<Set<Integer>> revocations = new ArrayList<>();

    @Override
    public GroupSession session() {
      throw new AssertionError("leaderless modes never ask for the session");
    }

    @Override
    public List<Member> eligible() {
      return eligible;
    }

    @Override
    public void submit(Mode.Task task) {
      task.run().ifPresent(installed -> revocations.add(installed.revoked()));
    }

    @Override
    public void schedule(Mode.Task task, Duration delay) {
      submit(task);
    }

    @Override
    public void debounce(Mode.Task task, Duration delay) {
      submit(task);
    }

    @Override
    public Duration settleDelay() {
      return Duration.ZERO;
    }

    @Override
    public RebalancerMetrics metrics() {
      return new RebalancerMetrics(new MetricRegistry(), "g", "m", () -> Ownership.NONE, () -> 0);
    }
  }

  private static MemberInfo worker(String id, long session, long incarnation) {
    return new MemberInfo(Member.of(id), false, incarnation, 0, session, Membership.Role.WORKER);
  }

  private static final HandoffState V2 = HandoffState.version(2);

  private static Handoff.Ack ack(String id, String state, long session, long incarnation) {
    return new Handoff.Ack(id, HandoffState.parse(state), incarnation, session, 100);
  }

  @Test
  void agreement_needsEveryWorkersCurrentSessionAndNothingElse() {
    List<MemberInfo> workers = List.of(worker("a", 1, 10), worker("b", 2, 20));
    assertThat(
            Handoff.disagreeing(V2, workers, List.of(ack("a", "v2", 1, 10), ack("b", "v2", 2, 20))))
        .isEmpty();
    // Another state blocks.
    assertThat(
            Handoff.disagreeing(V2, workers, List.of(ack("a", "v2", 1, 10), ack("b", "v1", 2, 20))))
        .containsExactly("b");
    // A missing acknowledgement of a live worker blocks: it never means "holds nothing".
    assertThat(Handoff.disagreeing(V2, workers, List.of(ack("a", "v2", 1, 10))))
        .containsExactly("b");
    // An acknowledgement left by a worker's previous session blocks (issue 10's bug).
    assertThat(
            Handoff.disagreeing(
                V2, workers, List.of(ack("a", "v2", 1, 10), ack("b", "v2", 99, 20))))
        .containsExactly("b");
    // ... and so does one of an earlier incarnation, or of a worker the view does not have yet.
    assertThat(
            Handoff.disagreeing(
                V2,
                workers,
                List.of(ack("a", "v2", 1, 9), ack("b", "v2", 2, 20), ack("c", "v2", 3, 30))))
        .containsExactlyInAnyOrder("a", "c");
  }

  @Test
  void barrier_coversOnlyItsStateAndAcknowledgementsBeforeItsReadPoint() {
    Handoff.Barrier barrier = new Handoff.Barrier(HandoffState.version(3), 500, 510);
    assertThat(barrier.covers(HandoffState.version(3), 499)).isTrue();
    assertThat(barrier.covers(HandoffState.version(3), 500))
        .as("written at the read point: not seen")
        .isFalse();
    assertThat(barrier.covers(HandoffState.version(3), 600))
        .as("a newer incarnation's ack")
        .isFalse();
    assertThat(barrier.covers(HandoffState.version(2), 499)).as("another state").isFalse();
    assertThat(barrier.covers(HandoffState.version(3), 0)).as("no acknowledgement").isFalse();
    assertThat(Handoff.Barrier.NONE.covers(HandoffState.version(3), 1)).isFalse();
  }

  @Test
  void leaderless_keepsWhatStays_revokesWhatMoves_activatesOnlyWhatIsNew() {
    PartitionPlacement placement =
        Placement.newBuilder().strategy(Strategy.RENDEZVOUS).partitions(64).buildPartitioned();
    FakeHost host = new FakeHost();
    LeaderlessMode a = new LeaderlessMode(host, placement, "a");
    host.eligible = List.of(Member.of("a"));
    a.viewChanged();
    assertThat(a.pending()).isTrue();
    assertThat(a.activate(1000)).hasSize(64);
    assertThat(a.snapshot(false).grant("any-key", Long.MAX_VALUE).orElseThrow().token())
        .isEqualTo(1000);

    host.eligible = List.of(Member.of("a"), Member.of("b"));
    a.viewChanged();
    Set<Integer> revoked = host.revocations.get(host.revocations.size() - 1);
    Ownership.Partitioned after = a.snapshot(false);
    Assignment two = after.assignment();
    assertThat(revoked).isNotEmpty();
    for (int p = 0; p < 64; p++) {
      boolean mine = two.primary(p).id().equals("a");
      // Partitions that stay keep their token and never pause; moved ones stop at once.
      assertThat(after.token(p)).as("partition %d", p).isEqualTo(mine ? 1000 : 0);
      assertThat(revoked.contains(p)).isEqualTo(!mine);
    }
    assertThat(a.pending()).as("nothing new for a").isFalse();
    assertThat(a.snapshot(true).token(0)).as("paused grants are not active").isZero();
    assertThat(a.matches(host.eligible)).isTrue();
    assertThat(a.matches(List.of(Member.of("a")))).isFalse();

    // Session lost: everything goes; a new incarnation wants all of its partitions again.
    assertThat(a.dropAll()).hasSize(64 - revoked.size());
    a.reset();
    assertThat(a.activate(2000)).hasSize(64 - revoked.size()).allMatch(g -> g.token() == 2000);
  }

  @Test
  void tooz_keyStaysOursOnlyWhileEveryUnsettledRingAgrees() {
    FakeHost host = new FakeHost();
    ToozMode a = new ToozMode(host, "a", 32, 1);
    host.eligible = List.of(Member.of("a"));
    a.viewChanged();
    a.activate(1000);
    host.eligible = List.of(Member.of("a"), Member.of("b"));
    a.viewChanged();
    assertThat(host.revocations.get(host.revocations.size() - 1)).containsExactly(-1);
    io.ringwork.ring.ToozRing two = io.ringwork.ring.ToozRing.of(host.eligible, 32, 1);
    Ownership unsettled = a.snapshot(false);
    int moved = 0;
    for (int i = 0; i < 200; i++) {
      String key = "key-" + i;
      boolean stays = two.primary(key).id().equals("a");
      // Before the handoff settles: keys that stay with a are still granted under the old token.
      assertThat(unsettled.grant(key, Long.MAX_VALUE).isPresent()).as(key).isEqualTo(stays);
      moved += stays ? 0 : 1;
    }
    assertThat(moved).isPositive();
    a.activate(2000);
    assertThat(a.snapshot(false).grant(first(two, "a"), Long.MAX_VALUE).orElseThrow().token())
        .isEqualTo(2000);
    assertThat(a.givesWork()).isTrue();
  }

  private static String first(io.ringwork.ring.ToozRing ring, String owner) {
    for (int i = 0; ; i++) {
      if (ring.primary("key-" + i).id().equals(owner)) {
        return "key-" + i;
      }
    }
  }
}
