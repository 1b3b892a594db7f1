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
 * Balance is statistical, not exact, and cost is O(P * N).
 */
public final class RendezvousPlacement implements PartitionPlacement {

  private final Partitioner partitioner;
  private final int replicas;

  RendezvousPlacement(Partitioner partitioner, int replicas) {
    this.partitioner = partitioner;
    this.replicas = replicas;
  }

  @Override
  public String name() {
    return RENDEZVOUS;
  }

  @Override
  public Partitioner partitioner() {
    return partitioner;
  }

  @Override
  public int replicas() {
    return replicas;
  }

  @Override
  public Assignment assign(Assignment previous, Collection<Member> members) {
    checkPrevious(previous);
    Member[] ms = Placements.sortedMembers(members);
    int n = ms.length;
    int partitions = partitioner.partitions();
    int stride = Math.min(replicas, n);
    long[] seed = new long[n];
    double[] weight = new double[n];
    boolean uniform = true;
    for (int i = 0; i < n; i++) {
      seed[i] = Placements.seedOf(ms[i]);
      weight[i] = ms[i].weight();
      uniform &= weight[i] == weight[0];
    }
    Map<String, Integer> zoneIndex = new HashMap<>();
    int[] zone = Placements.zoneIds(ms, zoneIndex);
    int zones = zoneIndex.size();

    int[] table = new int[partitions * stride];
    double[] score = new double[n];
    boolean[] chosen = new boolean[n];
    int[] usedZones = new int[stride];
    for (int p = 0; p < partitions; p++) {
      long ps = Placements.mix(p + 0x632BE59BD9B4E019L);
      for (int i = 0; i < n; i++) {
        long h = Placements.mix(ps ^ seed[i]);
        // With equal weights the score is monotonic in u, so skip the logarithm.
        score[i] = uniform ? (double) (h >>> 11) : -weight[i] / Math.log(unit(h));
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
    long version = previous == null ? 1 : previous.version() + 1;
    return new Assignment(
        RENDEZVOUS, version, partitioner, replicas, ms, Placements.indexById(ms), table);
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
