package io.ringwork.rebalancer;

import io.ringwork.ring.Member;
import io.ringwork.ring.Strategy;
import io.ringwork.ring.ToozRing;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Tooz mode: keys are granted exactly as tooz's Partitioner would, from a ring every worker builds
 * from its view. There are no partitions: a key is ours only while every ring applied since the
 * last settled one gives it to us, so keys that move wait for the handoff and keys that stay never
 * pause. {@code onAssigned} and {@code onRevoked} carry the pseudo-partition -1 ("re-check your
 * keys").
 */
final class ToozMode implements Mode {

  /** Unsettled rings kept before everything is given up until the next settle. */
  static final int MAX_UNSETTLED_RINGS = 16;

  private final Mode.Host host;
  private final String selfId;
  private final int points;
  private final int replicas;
  private final List<ToozRing> rings = new ArrayList<>();
  private HandoffState state = HandoffState.NONE;
  private long ringToken;
  private boolean ringPending;
  private long localVersion;

  ToozMode(Mode.Host host, String selfId, int points, int replicas) {
    this.host = host;
    this.selfId = selfId;
    this.points = points;
    this.replicas = replicas;
  }

  @Override
  public void start() {}

  @Override
  public void close() {}

  @Override
  public HandoffState state() {
    return state;
  }

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
    if (digest.equals(state)) {
      return Optional.empty();
    }
    localVersion++;
    state = digest;
    boolean held = ringToken != 0;
    if (rings.size() >= MAX_UNSETTLED_RINGS) {
      rings.clear();
      ringToken = 0;
    }
    rings.add(ToozRing.of(members, points, replicas));
    ringPending = true;
    host.metrics().rebalance();
    return Optional.of(new Installed(held ? Set.of(-1) : Set.of(), null));
  }

  @Override
  public boolean pending() {
    return ringPending;
  }

  @Override
  public List<Grant> activate(long token) {
    ToozRing newest = rings.get(rings.size() - 1);
    rings.clear();
    rings.add(newest);
    ringToken = token;
    ringPending = false;
    return List.of(new Grant(-1, token, localVersion));
  }

  @Override
  public Set<Integer> dropAll() {
    Set<Integer> held = ringToken != 0 ? Set.of(-1) : Set.of();
    ringToken = 0;
    ringPending = false;
    return held;
  }

  @Override
  public void reset() {
    ringPending = !rings.isEmpty();
  }

  @Override
  public boolean matches(List<Member> eligible) {
    return !eligible.isEmpty() && state.equals(digestOf(eligible));
  }

  private final LeaderlessMode.Digests digests = new LeaderlessMode.Digests();

  private HandoffState digestOf(List<Member> members) {
    return digests.of(members);
  }

  @Override
  public boolean givesWork() {
    return !rings.isEmpty()
        && rings.get(rings.size() - 1).members().stream().anyMatch(m -> m.id().equals(selfId));
  }

  @Override
  public Ownership snapshot(boolean paused) {
    return new Ownership.Tooz(
        Collections.unmodifiableList(new ArrayList<>(rings)),
        ringToken,
        localVersion,
        paused,
        selfId,
        0);
  }

  @Override
  public Strategy strategy() {
    return Strategy.TOOZ;
  }

  @Override
  public int partitions() {
    return points;
  }

  @Override
  public int replicas() {
    return replicas;
  }
}
