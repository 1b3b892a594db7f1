package io.ringwork.ring;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What changes from one {@link Assignment} to the next: the primaries that moved, the standby
 * changes, and the primaries each member gains and loses.
 */
public final class AssignmentDelta {

  /**
   * A partition whose primary changed.
   *
   * @param partition the partition
   * @param from the previous primary's id
   * @param to the new primary's id
   */
  public record Move(int partition, String from, String to) {}

  /**
   * A partition whose standbys changed (in membership or order).
   *
   * @param partition the partition
   * @param before the previous standbys' ids, in order
   * @param after the new standbys' ids, in order
   */
  public record StandbyChange(int partition, List<String> before, List<String> after) {}

  private final Assignment before;
  private final Assignment after;
  private final List<Move> moves;
  private final List<StandbyChange> standbyChanges;
  private final Map<String, Integer> gains;
  private final Map<String, Integer> losses;

  private AssignmentDelta(
      Assignment before,
      Assignment after,
      List<Move> moves,
      List<StandbyChange> standbyChanges,
      Map<String, Integer> gains,
      Map<String, Integer> losses) {
    this.before = before;
    this.after = after;
    this.moves = moves;
    this.standbyChanges = standbyChanges;
    this.gains = gains;
    this.losses = losses;
  }

  /**
   * Computes the delta between two assignments of the same partition count. O(P * r).
   *
   * @throws IllegalArgumentException if the partition counts differ
   */
  public static AssignmentDelta between(Assignment before, Assignment after) {
    Objects.requireNonNull(before, "before");
    Objects.requireNonNull(after, "after");
    if (before.partitions() != after.partitions()) {
      throw new IllegalArgumentException(
          "cannot compare assignments with "
              + before.partitions()
              + " and "
              + after.partitions()
              + " partitions");
    }
    List<Member> bm = before.members();
    List<Member> am = after.members();
    int bs = before.ownersPerPartition();
    int as = after.ownersPerPartition();
    int[] bt = before.tableUnsafe();
    int[] at = after.tableUnsafe();
    List<Move> moves = new ArrayList<>();
    List<StandbyChange> standbys = new ArrayList<>();
    TreeMap<String, Integer> gains = new TreeMap<>();
    TreeMap<String, Integer> losses = new TreeMap<>();
    for (int p = 0; p < before.partitions(); p++) {
      String from = bm.get(bt[p * bs]).id();
      String to = am.get(at[p * as]).id();
      if (!from.equals(to)) {
        moves.add(new Move(p, from, to));
        gains.merge(to, 1, Integer::sum);
        losses.merge(from, 1, Integer::sum);
      }
      if (bs > 1 || as > 1) {
        boolean same = bs == as;
        for (int r = 1; same && r < bs; r++) {
          same = bm.get(bt[p * bs + r]).id().equals(am.get(at[p * as + r]).id());
        }
        if (!same) {
          standbys.add(new StandbyChange(p, standbyIds(bm, bt, p, bs), standbyIds(am, at, p, as)));
        }
      }
    }
    return new AssignmentDelta(
        before,
        after,
        Collections.unmodifiableList(moves),
        Collections.unmodifiableList(standbys),
        Collections.unmodifiableMap(gains),
        Collections.unmodifiableMap(losses));
  }

  private static List<String> standbyIds(List<Member> members, int[] table, int p, int stride) {
    List<String> ids = new ArrayList<>(stride - 1);
    for (int r = 1; r < stride; r++) {
      ids.add(members.get(table[p * stride + r]).id());
    }
    return Collections.unmodifiableList(ids);
  }

  /** Returns the earlier assignment. */
  public Assignment before() {
    return before;
  }

  /** Returns the later assignment. */
  public Assignment after() {
    return after;
  }

  /** Returns the partitions whose primary changed, ascending by partition. */
  public List<Move> moves() {
    return moves;
  }

  /** Returns the number of partitions whose primary changed. */
  public int moved() {
    return moves.size();
  }

  /** Returns the partitions whose standbys changed, ascending by partition. */
  public List<StandbyChange> standbyChanges() {
    return standbyChanges;
  }

  /** Returns, per member id, the primaries it gained; members that gained none are absent. */
  public Map<String, Integer> gains() {
    return gains;
  }

  /** Returns, per member id, the primaries it lost; members that lost none are absent. */
  public Map<String, Integer> losses() {
    return losses;
  }

  /** Returns the partitions a member gains as primary, ascending. */
  public int[] gainedBy(String memberId) {
    return moves.stream().filter(m -> m.to().equals(memberId)).mapToInt(Move::partition).toArray();
  }

  /** Returns the partitions a member loses as primary, ascending. */
  public int[] lostBy(String memberId) {
    return moves.stream()
        .filter(m -> m.from().equals(memberId))
        .mapToInt(Move::partition)
        .toArray();
  }

  @Override
  public String toString() {
    return "AssignmentDelta{v"
        + before.version()
        + "->v"
        + after.version()
        + ", moved="
        + moves.size()
        + ", standbyChanges="
        + standbyChanges.size()
        + "}";
  }
}
