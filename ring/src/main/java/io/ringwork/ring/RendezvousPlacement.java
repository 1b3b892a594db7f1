package io.ringwork.ring;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The stateless placement: weighted rendezvous (highest random weight) hashing per partition.
 *
 * <p>For partition {@code p} and member {@code m}, {@code u = unit(mix(seed(p) ^ seed(m)))} is a
 * pseudo-random number in (0, 1), and the score is {@code -w / ln(u)}: the weighted variant of
 * Thaler and Ravishankar's highest-random-weight hashing (1998) given by Schindelhauer and
 * Schomaker ("Weighted distributed hash tables", SPAA 2005) and used by Resch's logarithmic method.
 * A member's chance of the top score is exactly {@code w / W}. Owners are taken in score order,
 * skipping a member whose zone is already used while unused zones remain.
 *
 * <p>{@code seed(p)} is {@code mix(p)} and {@code seed(m)} the XXH3-64 of the member id, so the
 * table is a function of the member set alone: every worker computes the same one with no
 * coordination, and a join or leave changes only partitions whose owners include that member.
 * Balance is statistical, not exact, and a full computation ({@link #recompute}) costs O(P * N).
 *
 * <h2>Computing only what can change</h2>
 *
 * <p>Given the table of a previous member set, {@link #assign} recomputes only the partitions whose
 * owners can differ, and copies the others: the result is the full table, at O(P * (r + c) + m * N)
 * for c changed members and m recomputed partitions (about {@code P * r * c / N}). The argument,
 * partition by partition, where the owners are chosen greedily rank by rank:
 *
 * <ul>
 *   <li>A member that left, or whose weight or zone changed, matters only where it was an owner:
 *       elsewhere it was never the best candidate at any rank, so neither its absence nor its old
 *       score changed a choice. Those partitions are recomputed in full.
 *   <li>A member that joined, or the new form of a changed one, can only win a rank by beating the
 *       owner chosen there, so where its score is below every owner's score, no choice changes (by
 *       induction over the ranks: the same prefix leaves the same candidates eligible). Where it is
 *       not below (ties go to the lower index, as in the full computation), the partition is
 *       recomputed in full.
 * </ul>
 *
 * <p>The argument needs the score function and the zone rule to be the same for both member sets:
 * the same count of distinct zones (the rule looks at whether unused zones remain) and the same
 * choice between the plain and the logarithmic score (all weights equal or not), the same replica
 * count and owners per partition. Otherwise, or when many members changed, or when the previous
 * table is not this strategy's, the table is recomputed in full.
 */
public final class RendezvousPlacement implements PartitionPlacement {

  private final Partitioner partitioner;
  private final int replicas;

  RendezvousPlacement(Partitioner partitioner, int replicas) {
    this.partitioner = partitioner;
    this.replicas = replicas;
  }

  @Override
  public Strategy strategy() {
    return Strategy.RENDEZVOUS;
  }

  @Override
  public Partitioner partitioner() {
    return partitioner;
  }

  @Override
  public int replicas() {
    return replicas;
  }

  /**
   * {@inheritDoc}
   *
   * <p>A previous assignment of this strategy (its own output, as a leaderless worker keeps it) is
   * used only to skip work: the result is the table of {@link #recompute}, computed only where it
   * can differ from the previous one.
   */
  @Override
  public Assignment assign(Assignment previous, Collection<Member> members) {
    checkPrevious(previous);
    Member[] ms = Placements.sortedMembers(members);
    Scores scores = new Scores(ms, Math.min(replicas, ms.length));
    int[] table = null;
    if (previous != null
        && previous.strategy() == Strategy.RENDEZVOUS
        && previous.replicas() == replicas
        && previous.ownersPerPartition() == scores.stride) {
      table = scores.update(previous, partitioner.partitions());
    }
    if (table == null) {
      table = scores.fullTable(partitioner.partitions());
    }
    long version = previous == null ? 1 : previous.version() + 1;
    return new Assignment(
        Strategy.RENDEZVOUS, version, partitioner, replicas, ms, Placements.indexById(ms), table);
  }

  /**
   * Computes the table from the member set alone, O(P * N): the reference that {@link #assign}
   * equals.
   *
   * @param previous the assignment in force, or {@code null}; only its version is read
   * @throws IllegalArgumentException if the members are empty or repeat an id, or {@code previous}
   *     has another partition count
   */
  public Assignment recompute(Assignment previous, Collection<Member> members) {
    checkPrevious(previous);
    Member[] ms = Placements.sortedMembers(members);
    int[] table = new Scores(ms, Math.min(replicas, ms.length)).fullTable(partitioner.partitions());
    long version = previous == null ? 1 : previous.version() + 1;
    return new Assignment(
        Strategy.RENDEZVOUS, version, partitioner, replicas, ms, Placements.indexById(ms), table);
  }

  /** The scores of one member set, and the choice of owners from them. */
  static final class Scores {
    private final Member[] ms;
    private final int n;
    final int stride;
    private final long[] seed;
    private final double[] weight;
    private final boolean uniform;
    private final int[] zone;
    private final int zones;
    private final Map<String, Integer> zoneIndex = new HashMap<>();
    private final double[] score;
    private final boolean[] chosen;
    private final int[] usedZones;

    Scores(Member[] ms, int stride) {
      this.ms = ms;
      this.n = ms.length;
      this.stride = stride;
      this.seed = new long[n];
      this.weight = new double[n];
      this.uniform = uniform(ms);
      for (int i = 0; i < n; i++) {
        seed[i] = Placements.seedOf(ms[i]);
        weight[i] = ms[i].weight();
      }
      this.zone = Placements.zoneIds(ms, zoneIndex);
      this.zones = zoneIndex.size();
      this.score = new double[n];
      this.chosen = new boolean[n];
      this.usedZones = new int[stride];
    }

    private static boolean uniform(Member[] ms) {
      for (Member m : ms) {
        if (m.weight() != ms[0].weight()) {
          return false;
        }
      }
      return true;
    }

    private static long partitionSeed(int p) {
      return Placements.mix(p + 0x632BE59BD9B4E019L);
    }

    /** Returns member i's score for the partition of seed ps. */
    private double score(long ps, int i) {
      long h = Placements.mix(ps ^ seed[i]);
      // With equal weights the score is monotonic in u, so skip the logarithm.
      return uniform ? (double) (h >>> 11) : -weight[i] / Math.log(unit(h));
    }

    int[] fullTable(int partitions) {
      int[] table = new int[partitions * stride];
      for (int p = 0; p < partitions; p++) {
        place(p, table);
      }
      return table;
    }

    /** Chooses partition p's owners from every member's score. */
    private void place(int p, int[] table) {
      long ps = partitionSeed(p);
      for (int i = 0; i < n; i++) {
        score[i] = score(ps, i);
      }
      int base = p * stride;
      int used = 0;
      for (int r = 0; r < stride; r++) {
        boolean needNewZone = used < zones;
        int best = -1;
        for (int i = 0; i < n; i++) {
          if (chosen[i] || (needNewZone && contains(usedZones, used, zone[i]))) {
            continue;
          }
          if (best < 0 || score[i] > score[best]) {
            best = i;
          }
        }
        table[base + r] = best;
        chosen[best] = true;
        if (!contains(usedZones, used, zone[best])) {
          usedZones[used++] = zone[best];
        }
      }
      for (int r = 0; r < stride; r++) {
        chosen[table[base + r]] = false;
      }
    }

    /**
     * Returns the table computed from a previous one where only the partitions that can change are
     * recomputed, or null when the previous table cannot be used (see the class comment).
     */
    int[] update(Assignment previous, int partitions) {
      Member[] pm = previous.memberArray();
      if (uniform(pm) != uniform || zoneCount(pm) != zones) {
        return null;
      }
      // Map previous members to new indices: -1 for one that left or changed its weight or zone.
      int[] newIndexOfPrev = new int[pm.length];
      boolean[] entrant = new boolean[n];
      int entrants = 0;
      int changed = 0;
      for (int i = 0, j = 0; i < pm.length || j < n; ) {
        int c = i == pm.length ? 1 : j == n ? -1 : Placements.compareIds(pm[i].id(), ms[j].id());
        if (c < 0) {
          newIndexOfPrev[i++] = -1;
          changed++;
        } else if (c > 0) {
          entrant[j++] = true;
          entrants++;
        } else {
          boolean same = pm[i].weight() == ms[j].weight() && pm[i].zone().equals(ms[j].zone());
          newIndexOfPrev[i] = same ? j : -1;
          if (!same) {
            entrant[j] = true;
            entrants++;
            changed++;
          }
          i++;
          j++;
        }
      }
      if (entrants + changed > Math.max(1, n / 8)) {
        return null;
      }
      int[] entrantIndex = new int[entrants];
      for (int j = 0, k = 0; j < n; j++) {
        if (entrant[j]) {
          entrantIndex[k++] = j;
        }
      }
      int[] slotToNew = new int[previous.slotMembers().length];
      int[] prevSlotOf = previous.slotOf();
      for (int i = 0; i < pm.length; i++) {
        slotToNew[prevSlotOf[i]] = newIndexOfPrev[i];
      }
      int[] table = new int[partitions * stride];
      for (int p = 0; p < partitions; p++) {
        if (!keep(previous, p, slotToNew, entrantIndex, table)) {
          place(p, table);
        }
      }
      return table;
    }

    /**
     * Copies partition p's previous owners when no change can reach them; returns false when the
     * partition must be recomputed.
     */
    private boolean keep(
        Assignment previous, int p, int[] slotToNew, int[] entrantIndex, int[] table) {
      long ps = partitionSeed(p);
      int base = p * stride;
      double lowest = Double.POSITIVE_INFINITY;
      for (int r = 0; r < stride; r++) {
        int i = slotToNew[previous.slot(p, r)];
        if (i < 0) {
          return false;
        }
        table[base + r] = i;
        lowest = Math.min(lowest, score(ps, i));
      }
      for (int j : entrantIndex) {
        if (score(ps, j) >= lowest) {
          return false;
        }
      }
      return true;
    }

    private static int zoneCount(Member[] members) {
      HashMap<String, Integer> index = new HashMap<>();
      Placements.zoneIds(members, index);
      return index.size();
    }
  }

  /** Maps 64 random bits to a double in the open interval (0, 1). */
  private static double unit(long h) {
    return ((h >>> 11) + 0.5) * 0x1.0p-53;
  }

  private static boolean contains(int[] values, int size, int value) {
    for (int k = 0; k < size; k++) {
      if (values[k] == value) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "RendezvousPlacement{partitions="
        + partitioner.partitions()
        + ", replicas="
        + replicas
        + "}";
  }
}
