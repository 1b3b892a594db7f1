package io.ringwork.ring;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The sticky, exactly balanced placement: the default strategy.
 *
 * <h2>Design</h2>
 *
 * <p>Every member gets its weighted fair share of primaries, a quota of {@code floor(P * w / W)} or
 * one more, the remainders handed out by largest fraction (Hamilton's method) so the quotas sum to
 * P. Starting from the previous table, the step is a minimum-cost transportation problem with a
 * trivial optimum, because every unit of surplus must move somewhere and every unit of deficit must
 * be filled:
 *
 * <ol>
 *   <li>Partitions of members that left are orphans.
 *   <li>Each staying member over its quota releases exactly its surplus (its lowest partitions), no
 *       more. Members within quota release nothing, so nothing ever moves between two members that
 *       are both within quota.
 *   <li>Orphans go to members under quota, first to an orphan's previous standby when that member
 *       has room (the warm replica takes over: failover), then in a seeded order of members.
 * </ol>
 *
 * <p>So the number of moved primaries is exactly {@code orphans + sum(max(0, count - quota))}, the
 * minimum any placement with exact quotas must move. With no previous table, every partition is an
 * orphan and members are visited in the order of the XXH3 hash of their ids, which makes the first
 * table a function of the member set alone (not of its order). A throttle ({@code maxMovesPerStep})
 * bounds step 2 only: orphans of departed members are always re-homed at once; the largest
 * surpluses are released first, so a plan converges in {@code ceil(surplus / max)} steps.
 *
 * <p>Standbys ({@code replicas > 1}) are chosen after primaries. A partition keeps a previous
 * standby while that member is alive, not the primary, in a zone not yet used by the partition's
 * owners (when enough zones exist) and under its standby cap (its zone-aware fair share of standby
 * slots, see {@code standbyCaps}). Missing standbys are found by probing members from a
 * per-partition hashed offset, preferring in turn: a new zone and room under the cap; a new zone;
 * room under the cap; anyone not yet an owner. Zone spread is a hard rule whenever enough zones
 * exist; standby balance is best effort.
 *
 * <p>Cost: {@link #recompute} makes one pass over the previous table, O(P * r) for the standbys,
 * and O(N log N) for the quotas and orders. This is the same shape as Kafka's sticky assignors and
 * Helix's CrushEd/Waged rebalancers, but with the exact-quota guarantee those lack. {@link #assign}
 * from a previous assignment takes the same steps incrementally ({@code BalancedStep}): O(N) for
 * the members and quotas plus O(k log k) for k moved partitions, with the same result; the standbys
 * still take their O(P * r) pass.
 */
public final class BalancedPlacement implements PartitionPlacement {

  /** Probes of the under-cap levels before falling back to the next preference. */
  private static final int PROBES = 64;

  private final Partitioner partitioner;
  private final int replicas;
  private final int maxMovesPerStep;

  BalancedPlacement(Partitioner partitioner, int replicas, int maxMovesPerStep) {
    this.partitioner = partitioner;
    this.replicas = replicas;
    this.maxMovesPerStep = maxMovesPerStep;
  }

  @Override
  public Strategy strategy() {
    return Strategy.BALANCED;
  }

  @Override
  public Partitioner partitioner() {
    return partitioner;
  }

  @Override
  public int replicas() {
    return replicas;
  }

  /** Returns the most surplus partitions moved per step, {@code Integer.MAX_VALUE} when unset. */
  public int maxMovesPerStep() {
    return maxMovesPerStep;
  }

  /**
   * Returns each member's primary quota for a member set: {@code floor(P * w / W)} or one more,
   * summing to P, in the order of {@code members} sorted by id.
   *
   * @throws IllegalArgumentException if the members are empty or repeat an id
   */
  public Map<String, Integer> quotas(Collection<Member> members) {
    Member[] sorted = Placements.sortedMembers(members);
    int[] quota = Placements.quotas(sorted, partitioner.partitions());
    Map<String, Integer> result = new java.util.LinkedHashMap<>();
    for (int i = 0; i < sorted.length; i++) {
      result.put(sorted[i].id(), quota[i]);
    }
    return result;
  }

  /**
   * Returns each member's primary quota for a member set, as {@link #quotas} does, as an array in
   * the order of {@code members} sorted by id (the order of {@link Assignment#members()}).
   *
   * @throws IllegalArgumentException if the members are empty or repeat an id
   */
  public int[] quotaArray(Collection<Member> members) {
    return Placements.quotas(Placements.sortedMembers(members), partitioner.partitions());
  }

  /**
   * {@inheritDoc}
   *
   * <p>From a previous assignment, this is an incremental step ({@code BalancedStep}) whose cost is
   * proportional to what moves; its result is the same table as {@link #recompute}'s.
   */
  @Override
  public Assignment assign(Assignment previous, Collection<Member> members) {
    checkPrevious(previous);
    if (previous == null || previous.replicas() != replicas) {
      return recompute(previous, members);
    }
    Member[] ms = Placements.sortedMembers(members);
    if (!BalancedStep.applies(previous, ms)) {
      return recompute(previous, members);
    }
    Assignment next = new BalancedStep(this, previous, ms).next();
    return next != null ? next : recompute(previous, members);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here the step is taken from the change itself: the joiners are placed among the previous
   * assignment's sorted members by binary search, so the ids of the members that stay are not
   * checked, sorted or merged again.
   */
  @Override
  public Assignment step(Assignment previous, Collection<Member> joined, Collection<String> left) {
    Objects.requireNonNull(previous, "previous");
    checkPrevious(previous);
    return stepFrom(previous, MemberChange.apply(previous, joined, left));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here one merge of {@code members} with the previous assignment's members finds the change
   * and maps the members that stay, which {@link #assign} does in two passes over the ids (an order
   * check, then a merge); the incremental step then runs from that change as {@link #step} does.
   */
  @Override
  public Assignment stepTo(Assignment previous, Collection<Member> members) {
    checkPrevious(previous);
    if (previous == null || previous.replicas() != replicas) {
      return recompute(previous, members);
    }
    return stepFrom(previous, MemberChange.to(previous, members));
  }

  /** The incremental step from a change, or the full pass where the step does not apply. */
  private Assignment stepFrom(Assignment previous, MemberChange change) {
    Assignment next = null;
    if (previous.replicas() == replicas && BalancedStep.applies(previous, change.members)) {
      next =
          new BalancedStep(
                  this,
                  previous,
                  change.members,
                  change.prevIndex,
                  change.newIndexOfPrev,
                  change.joiners)
              .next();
    }
    return next != null ? next : recompute(previous, Arrays.asList(change.members));
  }

  /**
   * Computes the next assignment by a full pass over the previous table, O(P * r + N log N): the
   * reference that the incremental step of {@link #assign} equals, used for a first table and when
   * the replica count changed.
   *
   * @param previous the assignment in force, or {@code null} for none
   * @throws IllegalArgumentException if the members are empty or repeat an id, or {@code previous}
   *     has another partition count
   */
  public Assignment recompute(Assignment previous, Collection<Member> members) {
    checkPrevious(previous);
    return new Recompute(previous, Placements.sortedMembers(members)).run();
  }

  /**
   * One full recomputation, phase by phase, each phase a method (after Kafka's {@code
   * UniformHomogeneousAssignmentBuilder}): {@link #keepPreviousPrimaries}, {@link #releaseSurplus},
   * {@link #failOverToStandbys}, {@link #fillDeficits}, {@link #placeStandbys}. The fields are the
   * state the phases hand on; an instance computes one table.
   */
  private final class Recompute {
    private final Assignment previous;
    private final Member[] ms;
    private final Map<String, Integer> index;
    private final int n;
    private final int partitions;
    private final int[] quota;
    private final long[] seed;

    /** The previous table and its owners per partition; null and 0 without a previous table. */
    private final int[] prevTable;

    private final int prevStride;

    /** Each previous member's index among {@link #ms}, -1 for a member that left. */
    private final int[] prevMap;

    /** Each partition's primary, -1 while it has none. */
    private final int[] primary;

    /** Each member's count of primaries. */
    private final int[] count;

    /** The partitions without a primary: the first {@link #orphanCount} entries. */
    private int[] orphans;

    private int orphanCount;

    /** Each member's primaries still missing to reach its quota. */
    private int[] deficit;

    Recompute(Assignment previous, Member[] ms) {
      this.previous = previous;
      this.ms = ms;
      this.index = Placements.indexById(ms);
      this.n = ms.length;
      this.partitions = partitioner.partitions();
      this.quota = Placements.quotas(ms, partitions);
      this.seed = new long[n];
      for (int i = 0; i < n; i++) {
        seed[i] = Placements.seedOf(ms[i]);
      }
      if (previous == null) {
        prevTable = null;
        prevStride = 0;
        prevMap = null;
      } else {
        Member[] prevMembers = previous.memberArray();
        prevMap = new int[prevMembers.length];
        for (int i = 0; i < prevMembers.length; i++) {
          Integer j = index.get(prevMembers[i].id());
          prevMap[i] = j == null ? -1 : j;
        }
        prevTable = previous.table();
        prevStride = previous.ownersPerPartition();
      }
      this.primary = new int[partitions];
      this.count = new int[n];
    }

    Assignment run() {
      int departed = keepPreviousPrimaries();
      releaseSurplus(departed);
      failOverToStandbys();
      fillDeficits();
      int[] table = placeStandbys();
      long version = previous == null ? 1 : previous.version() + 1;
      return new Assignment(
          Strategy.BALANCED, version, partitioner, replicas, ms, index, table, count);
    }

    /**
     * Phase 1: every partition keeps its previous primary if that member stayed. Returns how many
     * partitions lost their primary (all of them without a previous table).
     */
    private int keepPreviousPrimaries() {
      if (previous == null) {
        Arrays.fill(primary, -1);
        return partitions;
      }
      int departed = 0;
      for (int p = 0; p < partitions; p++) {
        int m = prevMap[prevTable[p * prevStride]];
        primary[p] = m;
        if (m < 0) {
          departed++;
        } else {
          count[m]++;
        }
      }
      return departed;
    }

    /**
     * Phase 2: each member over its quota releases its surplus (throttled, largest surplus first so
     * a plan converges fastest), its lowest partitions; with the departed members' partitions these
     * are the orphans. Then each member's deficit is what it lacks to reach its quota.
     */
    private void releaseSurplus(int departed) {
      int[] release = surplusToRelease(count, quota, seed);
      int released = 0;
      for (int r : release) {
        released += r;
      }
      orphans = new int[departed + released];
      for (int p = 0; p < partitions; p++) {
        int m = primary[p];
        if (m < 0) {
          orphans[orphanCount++] = p;
        } else if (release[m] > 0) {
          release[m]--;
          count[m]--;
          primary[p] = -1;
          orphans[orphanCount++] = p;
        }
      }
      deficit = new int[n];
      for (int i = 0; i < n; i++) {
        deficit[i] = Math.max(0, quota[i] - count[i]);
      }
    }

    /**
     * Phase 3, failover: an orphan goes to its previous standby, in rank order, when that member
     * stayed and has room; the other orphans stay, in order, for phase 4.
     */
    private void failOverToStandbys() {
      if (previous == null || prevStride <= 1) {
        return;
      }
      int kept = 0;
      for (int k = 0; k < orphanCount; k++) {
        int p = orphans[k];
        int taker = -1;
        for (int r = 1; r < prevStride; r++) {
          int s = prevMap[prevTable[p * prevStride + r]];
          if (s >= 0 && deficit[s] > 0) {
            taker = s;
            break;
          }
        }
        if (taker >= 0) {
          primary[p] = taker;
          deficit[taker]--;
          count[taker]++;
        } else {
          orphans[kept++] = p;
        }
      }
      orphanCount = kept;
    }

    /**
     * Phase 4: the remaining orphans fill the deficits, members visited in seeded order, which is
     * independent of the order the members were given in.
     */
    private void fillDeficits() {
      int[] order = seededOrder(seed);
      int next = 0;
      for (int k = 0; k < n && next < orphanCount; k++) {
        int m = order[k];
        while (deficit[m] > 0 && next < orphanCount) {
          primary[orphans[next++]] = m;
          deficit[m]--;
          count[m]++;
        }
      }
      if (next < orphanCount) {
        throw new IllegalStateException(
            "internal error: " + (orphanCount - next) + " partitions left without an owner");
      }
    }

    /**
     * Phase 5: with more than one owner per partition, the standbys are chosen around the settled
     * primaries ({@link Standbys}). Returns the table, primary first in each partition's entries.
     */
    private int[] placeStandbys() {
      int stride = Math.min(replicas, n);
      if (stride == 1) {
        return primary;
      }
      int[] table = new int[partitions * stride];
      for (int p = 0; p < partitions; p++) {
        table[p * stride] = primary[p];
      }
      new Standbys(ms, seed, partitions, stride, table, prevTable, prevStride, prevMap).place();
      return table;
    }
  }

  /**
   * Returns how many partitions each member releases: its surplus over its quota, all of it unless
   * the throttle binds, then the largest surpluses first (ties by seed).
   */
  int[] surplusToRelease(int[] count, int[] quota, long[] seed) {
    int n = count.length;
    int[] release = new int[n];
    long total = 0;
    for (int i = 0; i < n; i++) {
      release[i] = Math.max(0, count[i] - quota[i]);
      total += release[i];
    }
    if (total <= maxMovesPerStep) {
      return release;
    }
    Integer[] bySurplus = new Integer[n];
    for (int i = 0; i < n; i++) {
      bySurplus[i] = i;
    }
    int[] surplus = release.clone();
    Arrays.sort(
        bySurplus,
        (a, b) -> {
          int c = Integer.compare(surplus[b], surplus[a]);
          return c != 0 ? c : Long.compareUnsigned(seed[a], seed[b]);
        });
    Arrays.fill(release, 0);
    int budget = maxMovesPerStep;
    for (int k = 0; k < n && budget > 0; k++) {
      int m = bySurplus[k];
      int take = Math.min(surplus[m], budget);
      release[m] = take;
      budget -= take;
    }
    return release;
  }

  /**
   * Returns member indices ordered by their seeds (ties by index), sorting packed primitive keys:
   * the top 40 bits of the seed above a 24-bit index.
   */
  static int[] seededOrder(long[] seed) {
    int n = seed.length;
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      // Flip the sign bit so that a signed sort orders the seeds as unsigned numbers.
      keys[i] = ((seed[i] & ~0xFFFFFFL) | i) ^ Long.MIN_VALUE;
    }
    Arrays.sort(keys);
    int[] order = new int[n];
    for (int k = 0; k < n; k++) {
      order[k] = (int) (keys[k] & 0xFFFFFF);
    }
    return order;
  }

  @Override
  public String toString() {
    return "BalancedPlacement{partitions="
        + partitioner.partitions()
        + ", replicas="
        + replicas
        + (maxMovesPerStep == Integer.MAX_VALUE ? "" : ", maxMovesPerStep=" + maxMovesPerStep)
        + "}";
  }

  /** Chooses standbys for a table whose primaries are set. */
  static final class Standbys {
    private final int n;
    private final int partitions;
    private final int stride;
    private final int[] table;
    private final int[] prevTable;
    private final int prevStride;
    private final int[] prevMap;
    private final int[] zone;
    private final int zones;
    private final int[][] zoneMembers;
    private final int[] order;
    private final int[] load;
    private final int[] cap;
    private final int[] usedZones;
    private final int[] deferred;
    private int deferredCount;

    Standbys(
        Member[] ms,
        long[] seed,
        int partitions,
        int stride,
        int[] table,
        int[] prevTable,
        int prevStride,
        int[] prevMap) {
      this.n = ms.length;
      this.partitions = partitions;
      this.stride = stride;
      this.table = table;
      this.prevTable = prevTable;
      this.prevStride = prevStride;
      this.prevMap = prevMap;
      Map<String, Integer> zoneIndex = new HashMap<>();
      this.zone = Placements.zoneIds(ms, zoneIndex);
      this.zones = zoneIndex.size();
      this.order = seededOrder(seed);
      int[] zoneSizes = new int[zones];
      for (int k = 0; k < n; k++) {
        zoneSizes[zone[order[k]]]++;
      }
      this.zoneMembers = new int[zones][];
      for (int z = 0; z < zones; z++) {
        zoneMembers[z] = new int[zoneSizes[z]];
      }
      int[] fill = new int[zones];
      for (int k = 0; k < n; k++) {
        int m = order[k];
        zoneMembers[zone[m]][fill[zone[m]]++] = m;
      }
      this.load = new int[n];
      this.cap = standbyCaps(ms, zone, zones, partitions, stride);
      this.usedZones = new int[stride];
      this.deferred = new int[Math.max(1, prevStride)];
    }

    /**
     * Returns each member's standby cap: its fair share of owner slots minus its primary share,
     * rounded up, plus one for rounding slack. When every partition spans {@code stride} distinct
     * zones, a zone can hold at most one owner per partition, so zone shares are found by water
     * filling: proportional to zone weight, capped at P, the excess shared by the other zones.
     */
    private static int[] standbyCaps(
        Member[] ms, int[] zone, int zones, int partitions, int stride) {
      double weight = Placements.totalWeight(ms);
      double[] zoneWeight = new double[zones];
      for (int i = 0; i < ms.length; i++) {
        zoneWeight[zone[i]] += ms[i].weight();
      }
      double[] zoneSlots = new double[zones];
      boolean[] full = new boolean[zones];
      double remaining = (double) partitions * stride;
      boolean changed = true;
      while (changed) {
        changed = false;
        double open = 0;
        for (int z = 0; z < zones; z++) {
          if (!full[z]) {
            open += zoneWeight[z];
          }
        }
        for (int z = 0; z < zones; z++) {
          if (full[z]) {
            continue;
          }
          zoneSlots[z] = remaining * zoneWeight[z] / open;
          if (zones >= stride && zoneSlots[z] > partitions) {
            full[z] = true;
            zoneSlots[z] = partitions;
            remaining -= partitions;
            changed = true;
          }
        }
      }
      int[] cap = new int[ms.length];
      for (int i = 0; i < ms.length; i++) {
        double slots = zoneSlots[zone[i]] * ms[i].weight() / zoneWeight[zone[i]];
        double primaries = partitions * ms[i].weight() / weight;
        cap[i] = (int) Math.ceil(Math.max(0, slots - primaries)) + 1;
      }
      return cap;
    }

    void place() {
      // Pass 1 keeps every valid previous standby that fits, before any new pick competes for
      // room, so that standbys move only when their member left, the primary changed, or a
      // member's cap (balance) forces it.
      int[] filled = new int[partitions];
      for (int p = 0; p < partitions; p++) {
        int base = p * stride;
        int owners = 1;
        int used = 0;
        usedZones[used++] = zone[table[base]];
        if (prevTable != null) {
          for (int r = 1; r < prevStride && owners < stride; r++) {
            int s = prevMap[prevTable[p * prevStride + r]];
            if (s >= 0
                && !isOwner(base, owners, s)
                && (used >= zones || !zoneUsed(used, zone[s]))
                && load[s] < cap[s]) {
              table[base + owners++] = s;
              load[s]++;
              if (!zoneUsed(used, zone[s])) {
                usedZones[used++] = zone[s];
              }
            }
          }
        }
        filled[p] = owners;
      }
      // Pass 2 fills the gaps.
      for (int p = 0; p < partitions; p++) {
        int owners = filled[p];
        if (owners == stride) {
          continue;
        }
        int base = p * stride;
        int used = 0;
        for (int r = 0; r < owners; r++) {
          if (!zoneUsed(used, zone[table[base + r]])) {
            usedZones[used++] = zone[table[base + r]];
          }
        }
        deferredCount = 0;
        if (prevTable != null) {
          for (int r = 1; r < prevStride; r++) {
            int s = prevMap[prevTable[p * prevStride + r]];
            if (s >= 0 && !isOwner(base, owners, s)) {
              // Over its cap or in a used zone: kept only if nothing better turns up.
              deferred[deferredCount++] = s;
            }
          }
        }
        while (owners < stride) {
          int s = pick(p, base, owners, used);
          table[base + owners++] = s;
          load[s]++;
          if (!zoneUsed(used, zone[s])) {
            usedZones[used++] = zone[s];
          }
        }
      }
    }

    private int pick(int p, int base, int owners, int used) {
      long h = Placements.mix(0x9E3779B97F4A7C15L * (p + 1) + owners);
      if (used < zones) {
        // A zone not yet used: first with room under the cap, then regardless of it.
        int z0 = Placements.reduce(h, zones);
        int probes = 0;
        for (int dz = 0; dz < zones && probes < PROBES; dz++) {
          int z = (z0 + dz) % zones;
          if (zoneUsed(used, z)) {
            continue;
          }
          int[] zm = zoneMembers[z];
          int start = Placements.reduce(Placements.mix(h + z), zm.length);
          for (int k = 0; k < zm.length && probes < PROBES; k++, probes++) {
            int m = zm[(start + k) % zm.length];
            if (load[m] < cap[m]) {
              return m;
            }
          }
        }
        for (int k = 0; k < deferredCount; k++) {
          int m = deferred[k];
          if (!zoneUsed(used, zone[m]) && !isOwner(base, owners, m)) {
            return m;
          }
        }
        for (int dz = 0; dz < zones; dz++) {
          int z = (z0 + dz) % zones;
          if (!zoneUsed(used, z)) {
            int[] zm = zoneMembers[z];
            return zm[Placements.reduce(Placements.mix(h + z), zm.length)];
          }
        }
      }
      int start = Placements.reduce(h, n);
      for (int k = 0; k < Math.min(n, PROBES); k++) {
        int m = order[(start + k) % n];
        if (load[m] < cap[m] && !isOwner(base, owners, m)) {
          return m;
        }
      }
      for (int k = 0; k < deferredCount; k++) {
        if (!isOwner(base, owners, deferred[k])) {
          return deferred[k];
        }
      }
      for (int k = 0; k < n; k++) {
        int m = order[(start + k) % n];
        if (!isOwner(base, owners, m)) {
          return m;
        }
      }
      throw new IllegalStateException("internal error: no standby candidate for partition " + p);
    }

    private boolean isOwner(int base, int owners, int m) {
      for (int r = 0; r < owners; r++) {
        if (table[base + r] == m) {
          return true;
        }
      }
      return false;
    }

    private boolean zoneUsed(int used, int z) {
      for (int k = 0; k < used; k++) {
        if (usedZones[k] == z) {
          return true;
        }
      }
      return false;
    }
  }
}
