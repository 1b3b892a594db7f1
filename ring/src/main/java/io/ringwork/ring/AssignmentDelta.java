package io.ringwork.ring;

import java.util.ArrayList;
import java.util.Arrays;
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
    Member[] bm = before.slotMembers();
    Member[] am = after.slotMembers();
    int bs = before.ownersPerPartition();
    int as = after.ownersPerPartition();
    List<Move> moves = new ArrayList<>();
    List<StandbyChange> standbys = new ArrayList<>();
    TreeMap<String, Integer> gains = new TreeMap<>();
    TreeMap<String, Integer> losses = new TreeMap<>();
    for (int p = 0; p < before.partitions(); p++) {
      String from = bm[before.slot(p, 0)].id();
      String to = am[after.slot(p, 0)].id();
      if (!from.equals(to)) {
        moves.add(new Move(p, from, to));
        gains.merge(to, 1, Integer::sum);
        losses.merge(from, 1, Integer::sum);
      }
      if (bs > 1 || as > 1) {
        boolean same = bs == as;
        for (int r = 1; same && r < bs; r++) {
          same = bm[before.slot(p, r)].id().equals(am[after.slot(p, r)].id());
        }
        if (!same) {
          standbys.add(new StandbyChange(p, standbyIds(before, p), standbyIds(after, p)));
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

  private static List<String> standbyIds(Assignment a, int p) {
    List<String> ids = new ArrayList<>(a.ownersPerPartition() - 1);
    for (int r = 1; r < a.ownersPerPartition(); r++) {
      ids.add(a.slotMembers()[a.slot(p, r)].id());
    }
    return Collections.unmodifiableList(ids);
  }

  /**
   * Returns the partitions whose primary changed from {@code before} to {@code after}, ascending:
   * the partitions of {@link #moves()} without building the delta. When one assignment was computed
   * from the other by a step of {@link BalancedPlacement}, the two share every part of their tables
   * that no move touched, and only the other parts are read: the cost is then O(N + moved * 512)
   * rather than O(P).
   *
   * @throws IllegalArgumentException if the partition counts differ
   */
  public static int[] movedPartitions(Assignment before, Assignment after) {
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
    // Map before's slots to after's by id, merging the two id-sorted member arrays.
    Member[] bm = before.memberArray();
    Member[] am = after.memberArray();
    int[] bSlotOf = before.slotOf();
    int[] aSlotOf = after.slotOf();
    int[] map = new int[before.slotMembers().length];
    Arrays.fill(map, -1);
    boolean aligned = true;
    for (int i = 0, j = 0; i < bm.length; ) {
      int c = j == am.length ? -1 : Placements.compareIds(bm[i].id(), am[j].id());
      if (c < 0) {
        i++;
      } else if (c > 0) {
        j++;
      } else {
        map[bSlotOf[i]] = aSlotOf[j];
        aligned &= bSlotOf[i] == aSlotOf[j];
        i++;
        j++;
      }
    }
    // A departed member's slot maps to -1, so its partitions count as moved. Two tables share a
    // chunk only when one was derived from the other (or is a copy with another version), and a
    // derived table rewrites every partition of a departed member, so a shared chunk holds only
    // members that stayed: with their slots unchanged, it holds no move.
    boolean shared = aligned && before.ownersPerPartition() == after.ownersPerPartition();
    int[][] bc = before.chunks();
    int[][] ac = after.chunks();
    int[] moved = new int[16];
    int count = 0;
    for (int c = 0; c < bc.length; c++) {
      if (shared && bc[c] == ac[c]) {
        continue;
      }
      int end = Math.min(before.partitions(), (c + 1) << Assignment.CHUNK_SHIFT);
      for (int p = c << Assignment.CHUNK_SHIFT; p < end; p++) {
        if (map[before.slot(p, 0)] != after.slot(p, 0)) {
          if (count == moved.length) {
            moved = Arrays.copyOf(moved, count * 2);
          }
          moved[count++] = p;
        }
      }
    }
    return Arrays.copyOf(moved, count);
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
