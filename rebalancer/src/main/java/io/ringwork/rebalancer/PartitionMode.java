package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the two partitioned modes share: the table in force, the active token of every partition
 * this member holds, and the partitions that wait for the barrier. Partitions that stay with this
 * member across states keep their grant and are never paused.
 */
abstract class PartitionMode implements Mode {

  final Mode.Host host;
  final PartitionPlacement placement;
  final String selfId;

  private Assignment current;
  private HandoffState state = HandoffState.NONE;
  private long[] tokens = new long[0];
  private final BitSet pending = new BitSet();

  PartitionMode(Mode.Host host, PartitionPlacement placement, String selfId) {
    this.host = host;
    this.placement = placement;
    this.selfId = selfId;
  }

  /**
   * Puts {@code next} in force under {@code nextState}: stops what it takes away; returns that, for
   * the rebalancer to run {@code onRevoked} and acknowledge.
   */
  final Mode.Installed install(Assignment next, HandoffState nextState) {
    if (tokens.length != next.partitions()) {
      tokens = new long[next.partitions()];
    }
    current = next;
    state = nextState;
    BitSet owned = new BitSet(next.partitions());
    for (int p : next.partitionsOf(selfId)) {
      owned.set(p);
    }
    TreeSet<Integer> revoked = new TreeSet<>();
    for (int p = 0; p < tokens.length; p++) {
      if (tokens[p] != 0 && !owned.get(p)) {
        tokens[p] = 0;
        revoked.add(p);
      }
    }
    pending.clear();
    for (int p = owned.nextSetBit(0); p >= 0; p = owned.nextSetBit(p + 1)) {
      if (tokens[p] == 0) {
        pending.set(p);
      }
    }
    host.metrics().rebalance();
    return new Mode.Installed(Collections.unmodifiableSet(revoked), next);
  }

  final Assignment current() {
    return current;
  }

  @Override
  public final HandoffState state() {
    return state;
  }

  @Override
  public final boolean pending() {
    return !pending.isEmpty();
  }

  @Override
  public final List<Grant> activate(long token) {
    List<Grant> grants = new ArrayList<>(pending.cardinality());
    for (int p = pending.nextSetBit(0); p >= 0; p = pending.nextSetBit(p + 1)) {
      tokens[p] = token;
      grants.add(new Grant(p, token, current.version()));
    }
    pending.clear();
    return Collections.unmodifiableList(grants);
  }

  @Override
  public final Set<Integer> dropAll() {
    TreeSet<Integer> held = new TreeSet<>();
    for (int p = 0; p < tokens.length; p++) {
      if (tokens[p] != 0) {
        held.add(p);
        tokens[p] = 0;
      }
    }
    pending.clear();
    return Collections.unmodifiableSet(held);
  }

  @Override
  public final void reset() {
    pending.clear();
    if (current != null) {
      for (int p : current.partitionsOf(selfId)) {
        if (tokens[p] == 0) {
          pending.set(p);
        }
      }
    }
  }

  @Override
  public final boolean givesWork() {
    return current != null && current.indexOf(selfId) >= 0 && current.primaryCount(selfId) > 0;
  }

  @Override
  public final Ownership.Partitioned snapshot(boolean paused) {
    long version = current == null ? 0 : current.version();
    return new Ownership.Partitioned(current, tokens.clone(), version, paused, selfId, 0);
  }

  @Override
  public final int partitions() {
    return placement.partitioner().partitions();
  }

  @Override
  public final int replicas() {
    return placement.replicas();
  }

  /**
   * The members sorted by id: the list itself when it already is (the placed members always are,
   * and every member checks them on every change), else a sorted copy. Not to be modified.
   */
  static List<Member> sortById(List<Member> members) {
    for (int i = 1; i < members.size(); i++) {
      if (members.get(i - 1).id().compareTo(members.get(i).id()) > 0) {
        List<Member> sorted = new ArrayList<>(members);
        sorted.sort((a, b) -> a.id().compareTo(b.id()));
        return sorted;
      }
    }
    return members;
  }
}
