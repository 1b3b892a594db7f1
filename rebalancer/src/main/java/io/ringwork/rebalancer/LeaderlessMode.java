package io.ringwork.rebalancer;

import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Strategy;
import java.util.List;
import java.util.Optional;

/**
 * Leaderless partitioned mode ({@code rendezvous}): every worker computes the table from its own
 * view once membership has been quiet for the settle delay. The state is a digest of the member
 * set, so equal states mean equal tables; the leader's barrier still decides when a handoff is
 * complete.
 */
final class LeaderlessMode extends PartitionMode {

  private long localVersion;

  LeaderlessMode(Mode.Host host, PartitionPlacement placement, String selfId) {
    super(host, placement, selfId);
  }

  @Override
  public void start() {}

  @Override
  public void close() {}

  @Override
  public void viewChanged() {
    host.debounce(this::recompute, host.settleDelay());
  }

  @Override
  public void leadershipChanged(boolean leader) {}

  private Optional<Installed> recompute() {
    List<Member> members = host.eligible();
    if (members.isEmpty()) {
      return Optional.empty();
    }
    HandoffState digest = digestOf(members);
    if (digest.equals(state())) {
      return Optional.empty();
    }
    localVersion++;
    // From the installed table: only the partitions the change can reach are recomputed.
    return Optional.of(
        install(placement.assign(current(), members).withVersion(localVersion), digest));
  }

  @Override
  public boolean matches(List<Member> eligible) {
    return !eligible.isEmpty() && state().equals(digestOf(eligible));
  }

  private final Digests digests = new Digests();

  private HandoffState digestOf(List<Member> members) {
    return digests.of(members);
  }

  /**
   * The digest of the last list asked for, kept while callers pass the same list object (the
   * rebalancer hands out one list per view), so that a view costs one digest, not one per event.
   */
  static final class Digests {
    private List<Member> list;
    private HandoffState digest;

    HandoffState of(List<Member> members) {
      if (members != list) {
        digest = LeaderlessMode.digest(members);
        list = members;
      }
      return digest;
    }
  }

  @Override
  public Strategy strategy() {
    return Strategy.RENDEZVOUS;
  }

  /** XXH3-64 of the canonical member list: equal digests mean equal stateless tables. */
  static HandoffState digest(List<Member> members) {
    StringBuilder sb = new StringBuilder();
    for (Member m : sortById(members)) {
      sb.append(m.id())
          .append('\u0001')
          .append(m.weight())
          .append('\u0001')
          .append(m.zone().orElse(""))
          .append('\u0002');
    }
    return HandoffState.digest(Partitioner.hash(sb.toString()));
  }
}
