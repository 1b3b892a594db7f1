package io.ringwork.ring;

import java.util.Arrays;
import java.util.Collection;
import java.util.Objects;

/**
 * A change to the members of a previous assignment, applied without touching the members that stay:
 * the joiners are sorted and placed by binary search among the previous members, which are sorted
 * already, and the new member array is copied around them. So no id of a staying member is
 * compared, hashed or checked again, which a full member list needs at every step.
 */
final class MemberChange {
  final Member[] members;
  final int[] prevIndex;
  final int[] newIndexOfPrev;
  final int joiners;

  private MemberChange(Member[] members, int[] prevIndex, int[] newIndexOfPrev, int joiners) {
    this.members = members;
    this.prevIndex = prevIndex;
    this.newIndexOfPrev = newIndexOfPrev;
    this.joiners = joiners;
  }

  /**
   * Applies {@code left} then {@code joined} to the members of {@code previous}. A member in both
   * (by id) stays, with what {@code joined} says about it (a weight or zone change).
   *
   * @throws IllegalArgumentException if a leaver is not a member, a joiner is already a member and
   *     is not leaving, an id repeats within a list, or no member is left
   */
  static MemberChange apply(
      Assignment previous, Collection<Member> joined, Collection<String> left) {
    Objects.requireNonNull(joined, "joined");
    Objects.requireNonNull(left, "left");
    Member[] pm = previous.memberArray();
    int[] newIndexOfPrev = new int[pm.length];
    for (String id : left) {
      Objects.requireNonNull(id, "left member id");
      int i = find(pm, id);
      if (i < 0) {
        throw new IllegalArgumentException(
            "member '"
                + id
                + "' cannot leave: it is not a member of version "
                + previous.version());
      }
      if (newIndexOfPrev[i] == -1) {
        throw new IllegalArgumentException("member '" + id + "' is listed twice as leaving");
      }
      newIndexOfPrev[i] = -1;
    }
    Member[] js = joined.toArray(new Member[0]);
    for (int k = 0; k < js.length; k++) {
      if (js[k] == null) {
        throw new NullPointerException("joined member at position " + k);
      }
    }
    Arrays.sort(js, (a, b) -> a.id().compareTo(b.id()));
    // Where each joiner goes among the previous members; one that replaces a leaver of the same
    // id takes its place (it stays), any other already there is an error.
    int[] at = new int[js.length];
    boolean[] replaces = new boolean[js.length];
    int replacing = 0;
    for (int k = 0; k < js.length; k++) {
      if (k > 0 && js[k].id().equals(js[k - 1].id())) {
        throw new IllegalArgumentException(
            "member '" + js[k].id() + "' is listed twice as joining");
      }
      int i = find(pm, js[k].id());
      if (i >= 0) {
        if (newIndexOfPrev[i] != -1) {
          throw new IllegalArgumentException(
              "member '" + js[k].id() + "' cannot join: it is already a member");
        }
        replaces[k] = true;
        replacing++;
        at[k] = i;
      } else {
        at[k] = -i - 1;
      }
    }
    int n = pm.length - left.size() + js.length;
    if (n == 0) {
      throw new IllegalArgumentException("members must not be empty: a ring needs one member");
    }
    if (n > Placements.MAX_MEMBERS) {
      throw new IllegalArgumentException(
          "at most " + Placements.MAX_MEMBERS + " members are supported, got " + n);
    }
    Member[] ms = new Member[n];
    int[] prevIndex = new int[n];
    int j = 0;
    int i = 0;
    for (int k = 0; k <= js.length; k++) {
      int until = k < js.length ? at[k] : pm.length;
      for (; i < until; i++) {
        if (newIndexOfPrev[i] == -1) {
          continue;
        }
        ms[j] = pm[i];
        prevIndex[j] = i;
        newIndexOfPrev[i] = j++;
      }
      if (k < js.length) {
        ms[j] = js[k];
        if (replaces[k]) {
          prevIndex[j] = i;
          newIndexOfPrev[i++] = j++;
        } else {
          prevIndex[j++] = -1;
        }
      }
    }
    return new MemberChange(ms, prevIndex, newIndexOfPrev, js.length - replacing);
  }

  /**
   * Returns the change from the members of {@code previous} to {@code members}, found by one merge
   * of the id-sorted previous members with the list: each member of the list is compared with the
   * previous members once, so that list is checked, ordered and mapped in one pass (a member whose
   * id string is the previous member's own object costs no character comparison). A member that
   * stays takes its entry in {@code members} (a weight, zone or label change comes with it).
   *
   * @throws IllegalArgumentException if the members are empty or repeat an id
   */
  static MemberChange to(Assignment previous, Collection<Member> members) {
    Objects.requireNonNull(members, "members");
    Member[] pm = previous.memberArray();
    Member[] given = members.toArray(new Member[0]);
    MemberChange change =
        given.length == 0 || given.length > Placements.MAX_MEMBERS ? null : merge(pm, given);
    // Not sorted by id, or not valid: sort and check as assign does, which names what is wrong.
    return change != null ? change : merge(pm, Placements.sortedMembers(members));
  }

  /**
   * Merges the previous members with {@code ms}; null if {@code ms} holds a null or is not sorted
   * by id without repeats. The merge itself proves the order of a member that stays after its
   * predecessor (the previous members are sorted, and the merge only moves forward); a joiner is
   * compared with its predecessor.
   */
  private static MemberChange merge(Member[] pm, Member[] ms) {
    int[] prevIndex = new int[ms.length];
    int[] newIndexOfPrev = new int[pm.length];
    int joiners = 0;
    int i = 0;
    for (int j = 0; j < ms.length; j++) {
      if (ms[j] == null) {
        return null;
      }
      String id = ms[j].id();
      int c = 1;
      while (i < pm.length && (c = Placements.compareIds(pm[i].id(), id)) < 0) {
        newIndexOfPrev[i++] = -1;
      }
      if (i < pm.length && c == 0) {
        newIndexOfPrev[i] = j;
        prevIndex[j] = i++;
      } else {
        if (j > 0 && Placements.compareIds(ms[j - 1].id(), id) >= 0) {
          return null;
        }
        prevIndex[j] = -1;
        joiners++;
      }
    }
    while (i < pm.length) {
      newIndexOfPrev[i++] = -1;
    }
    return new MemberChange(ms, prevIndex, newIndexOfPrev, joiners);
  }

  /** Binary search by id among members sorted by id: the index, or -(insertion point) - 1. */
  private static int find(Member[] sorted, String id) {
    int lo = 0;
    int hi = sorted.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = sorted[mid].id().compareTo(id);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -(lo + 1);
  }
}
