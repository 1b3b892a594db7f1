package io.ringwork.ring;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/** Arithmetic shared by the placements: member validation, quotas and seeded hashing. */
final class Placements {

  /** The most members a ring may have: member indices are packed into 24 bits when sorting. */
  static final int MAX_MEMBERS = 1 << 24;

  private Placements() {}

  /**
   * Returns the members sorted by id.
   *
   * @throws IllegalArgumentException if there are none or an id repeats
   */
  static Member[] sortedMembers(Collection<Member> members) {
    Objects.requireNonNull(members, "members");
    if (members.isEmpty()) {
      throw new IllegalArgumentException("members must not be empty: a ring needs one member");
    }
    if (members.size() > MAX_MEMBERS) {
      throw new IllegalArgumentException(
          "at most " + MAX_MEMBERS + " members are supported, got " + members.size());
    }
    Member[] sorted = members.toArray(new Member[0]);
    boolean inOrder = true;
    for (int i = 0; i < sorted.length; i++) {
      if (sorted[i] == null) {
        // Not requireNonNull(x, "..." + i): that builds the message for every member.
        throw new NullPointerException("member at position " + i);
      }
      inOrder &= i == 0 || sorted[i - 1].id().compareTo(sorted[i].id()) < 0;
    }
    if (!inOrder) {
      Arrays.sort(sorted, (a, b) -> a.id().compareTo(b.id()));
    }
    for (int i = 1; i < sorted.length; i++) {
      if (sorted[i].id().equals(sorted[i - 1].id())) {
        throw new IllegalArgumentException("duplicate member id '" + sorted[i].id() + "'");
      }
    }
    return sorted;
  }

  /** Compares two ids as {@link String#compareTo}, at once when they are the same object. */
  static int compareIds(String a, String b) {
    return a == b ? 0 : a.compareTo(b);
  }

  static Map<String, Integer> indexById(Member[] sorted) {
    Map<String, Integer> index = new HashMap<>(Math.max(16, sorted.length * 2));
    for (int i = 0; i < sorted.length; i++) {
      index.put(sorted[i].id(), i);
    }
    return index;
  }

  /** Returns the total weight, summed in id order so that every worker gets the same double. */
  static double totalWeight(Member[] sorted) {
    double w = 0;
    for (Member m : sorted) {
      w += m.weight();
    }
    return w;
  }

  /**
   * Returns each member's fair share of {@code total} slots: {@code floor(total * w / W)} or one
   * more, summing to {@code total}. The remainder goes to the largest fractional parts (Hamilton's
   * largest remainder method), ties broken by id order, so the result depends only on the member
   * set.
   */
  static int[] quotas(Member[] sorted, long total) {
    int n = sorted.length;
    double weight = totalWeight(sorted);
    int[] quota = new int[n];
    double[] fraction = new double[n];
    long assigned = 0;
    for (int i = 0; i < n; i++) {
      double exact = total * sorted[i].weight() / weight;
      long floor = (long) Math.floor(exact);
      quota[i] = (int) floor;
      fraction[i] = exact - floor;
      assigned += floor;
    }
    long remainder = total - assigned;
    if (remainder == 0) {
      return quota;
    }
    // Order by fraction, largest first for a remainder to hand out, smallest first for an
    // overshoot to take back; ties (fractions equal to 28 bits of mantissa) go by id order. The
    // keys are primitive longs, so the sort is cheap even for many members.
    boolean give = remainder > 0;
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      long bits = Double.doubleToLongBits(fraction[i]); // monotonic for non-negative doubles
      long rank = give ? (0x3FF0000000000000L - bits) : bits;
      keys[i] = (rank & ~0xFFFFFFL) | i;
    }
    if (!ascending(keys)) {
      // With equal weights every fraction is the same and the keys are in id order already.
      Arrays.sort(keys);
    }
    if (give) {
      for (long k = 0; k < remainder; k++) {
        quota[(int) (keys[(int) (k % n)] & 0xFFFFFF)]++;
      }
    } else {
      long take = -remainder;
      for (int k = 0; take > 0 && k < n; k++) {
        int i = (int) (keys[k] & 0xFFFFFF);
        if (quota[i] > 0) {
          quota[i]--;
          take--;
        }
      }
    }
    return quota;
  }

  private static boolean ascending(long[] keys) {
    for (int i = 1; i < keys.length; i++) {
      if (keys[i - 1] > keys[i]) {
        return false;
      }
    }
    return true;
  }

  /** Returns a member's placement seed: XXH3-64 of its id. */
  static long seedOf(Member member) {
    return Partitioner.hash(member.id());
  }

  /**
   * Mixes 64 bits into 64 well-distributed bits: the finalizer of SplitMix64 (Steele, Lea and
   * Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014).
   */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Returns {@code x mod n} for an unsigned 64-bit x, as an int in {@code [0, n)}. */
  static int reduce(long x, int n) {
    // Lemire's multiply-shift range reduction over the top 32 bits avoids a division.
    return (int) (((x >>> 32) * n) >>> 32);
  }

  /** Maps members' zones to dense ids; members without a zone share one zone. */
  static int[] zoneIds(Member[] sorted, Map<String, Integer> zoneIndex) {
    int[] zone = new int[sorted.length];
    for (int i = 0; i < sorted.length; i++) {
      String z = sorted[i].zone().orElse("");
      Integer id = zoneIndex.get(z);
      if (id == null) {
        id = zoneIndex.size();
        zoneIndex.put(z, id);
      }
      zone[i] = id;
    }
    return zone;
  }
}
