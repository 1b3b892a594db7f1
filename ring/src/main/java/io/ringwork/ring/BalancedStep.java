package io.ringwork.ring;

import java.util.Arrays;

/**
 * One incremental step of {@link BalancedPlacement}: the same table as {@link
 * BalancedPlacement#recompute}, at a cost proportional to what moves.
 *
 * <h2>Design</h2>
 *
 * <p>The full pass reads every partition to find two things: each member's primary count and the
 * orphans (the partitions of departed members, plus each over-quota member's lowest partitions, its
 * surplus). Both are already known from the previous assignment: it carries each member's count and
 * each member's primaries in ascending order (computed once, then handed from step to step). So the
 * orphans are the departed members' lists and a prefix of each releasing member's list, sorted; the
 * failover and the filling of deficits then run exactly as in the full pass, over the orphans alone
 * and over the members with a deficit alone (in the same seeded order). This is the idea of Kafka's
 * KIP-848 {@code UniformHomogeneousAssignmentBuilder} (revoke, then assign the unassigned) with the
 * per-member state kept between steps instead of rebuilt.
 *
 * <p>What makes it cheap is the table's layout (see {@link Assignment}): it holds member slots that
 * survive a step, in chunks that a step copies only when one of their partitions moves. A step does
 * O(N) work on the member arrays (merging the old and new id-sorted members, the quotas), O(k log
 * k) for k moved partitions, and copies at most k chunks. With standbys ({@code replicas > 1}) the
 * primaries are found the same way, but the standby pass stays the full O(P * r) one of {@link
 * BalancedPlacement.Standbys}: its caps and loads are global.
 *
 * <p>{@link BalancedPlacement#step} hands over the change ({@link MemberChange}) instead of the
 * whole member list, which spares the O(N) string work on the ids of the members that stay
 * (checking, sorting and merging them with the previous members).
 *
 * <p>Members keep their slot while they stay; joiners take slots that were free in the previous
 * assignment (never a slot freed in this step: the standby pass reads the previous table by slot).
 * When free slots outnumber members by far, {@link #applies} sends the step to the full pass, which
 * numbers slots afresh.
 */
final class BalancedStep {

  private static final int[] NONE = new int[0];

  private final BalancedPlacement placement;
  private final Assignment previous;
  private final Member[] ms;
  private final int n;
  private final int partitions;
  private final int stride;
  private final int prevStride;

  /** New index to previous index, -1 for a joiner. */
  private final int[] prevIndex;

  /** Previous index to new index, -1 for a member that left. */
  private final int[] newIndexOfPrev;

  /** New index to slot. */
  private final int[] slotOf;

  private final Member[] slotMembers;
  private final long[] slotSeeds;
  private final long[] seed;
  private int[] count;
  private int[] release;
  private int[] orphans;
  private int[] owner;

  /**
   * Returns whether a step from {@code previous} can be taken incrementally: yes unless free slots
   * would outnumber members by far.
   */
  static boolean applies(Assignment previous, Member[] sortedMembers) {
    return previous.slotMembers().length <= 2 * sortedMembers.length + 64;
  }

  BalancedStep(BalancedPlacement placement, Assignment previous, Member[] sortedMembers) {
    this(placement, previous, sortedMembers, null, null, -1);
  }

  /**
   * A step whose member mapping is already known, as {@link MemberChange#apply} finds it from a
   * change without comparing the ids of the members that stay.
   *
   * @param prevIndex new index to previous index, -1 for a joiner; null to find it by merging
   * @param newIndexOfPrev previous index to new index, -1 for a member that left
   * @param joiners how many members joined
   */
  BalancedStep(
      BalancedPlacement placement,
      Assignment previous,
      Member[] sortedMembers,
      int[] prevIndex,
      int[] newIndexOfPrev,
      int joiners) {
    this.placement = placement;
    this.previous = previous;
    this.ms = sortedMembers;
    this.n = sortedMembers.length;
    this.partitions = placement.partitioner().partitions();
    this.stride = Math.min(placement.replicas(), n);
    this.prevStride = previous.ownersPerPartition();
    if (prevIndex == null) {
      this.prevIndex = new int[n];
      this.newIndexOfPrev = new int[previous.memberArray().length];
      joiners = mapMembers();
    } else {
      this.prevIndex = prevIndex;
      this.newIndexOfPrev = newIndexOfPrev;
    }
    Member[] prevSlots = previous.slotMembers();
    int free = 0;
    for (Member m : prevSlots) {
      if (m == null) {
        free++;
      }
    }
    int size = prevSlots.length + Math.max(0, joiners - free);
    this.slotMembers = Arrays.copyOf(prevSlots, size);
    this.slotSeeds = Arrays.copyOf(previous.slotSeeds(), size);
    this.slotOf = new int[n];
    this.seed = new long[n];
    assignSlots();
  }

  /** Merges the previous and new id-sorted members; returns the number of joiners. */
  private int mapMembers() {
    Member[] pm = previous.memberArray();
    int joiners = 0;
    int i = 0;
    int j = 0;
    while (i < pm.length || j < n) {
      int c = i == pm.length ? 1 : j == n ? -1 : Placements.compareIds(pm[i].id(), ms[j].id());
      if (c < 0) {
        newIndexOfPrev[i++] = -1;
      } else if (c > 0) {
        prevIndex[j++] = -1;
        joiners++;
      } else {
        newIndexOfPrev[i] = j;
        prevIndex[j++] = i++;
      }
    }
    return joiners;
  }

  /** Keeps the slots of members that stay, gives joiners previously free slots, frees leavers'. */
  private void assignSlots() {
    int[] prevSlotOf = previous.slotOf();
    long[] prevSeeds = previous.slotSeeds();
    Member[] prevSlots = previous.slotMembers();
    int nextFree = 0;
    for (int j = 0; j < n; j++) {
      int s;
      if (prevIndex[j] >= 0) {
        s = prevSlotOf[prevIndex[j]];
        seed[j] = prevSeeds[s];
      } else {
        while (nextFree < prevSlots.length && prevSlots[nextFree] != null) {
          nextFree++;
        }
        s = nextFree++;
        seed[j] = Placements.seedOf(ms[j]);
        slotSeeds[s] = seed[j];
      }
      slotOf[j] = s;
      slotMembers[s] = ms[j];
    }
    for (int i = 0; i < newIndexOfPrev.length; i++) {
      if (newIndexOfPrev[i] < 0) {
        int s = prevSlotOf[i];
        slotMembers[s] = null;
        slotSeeds[s] = 0;
      }
    }
  }

  /**
   * Returns the next assignment, or null when this step would copy about as much as the full pass
   * reads (see {@link #cheaperThanFullPass}); the caller then takes the full pass.
   */
  Assignment next() {
    return next(false);
  }

  /** Returns the next assignment; with {@code always}, even when the full pass is cheaper. */
  Assignment next(boolean always) {
    int[] quota = Placements.quotas(ms, partitions);
    countAndRelease(quota);
    if (!always && stride == 1 && prevStride == 1 && !cheaperThanFullPass(quota)) {
      return null;
    }
    collectOrphans();
    int[] deficit = new int[n];
    for (int j = 0; j < n; j++) {
      deficit[j] = Math.max(0, quota[j] - count[j]);
    }
    owner = new int[orphans.length];
    Arrays.fill(owner, -1);
    if (prevStride > 1) {
      failover(deficit);
    }
    fillDeficits(deficit);
    long version = previous.version() + 1;
    if (stride == 1 && prevStride == 1) {
      return copyOnWrite(version);
    }
    return withStandbys(version);
  }

  /** Carries the members' primary counts over and finds how many each releases. */
  private void countAndRelease(int[] quota) {
    int[] prevCounts = previous.primaryCountsUnsafe();
    count = new int[n];
    for (int j = 0; j < n; j++) {
      count[j] = prevIndex[j] < 0 ? 0 : prevCounts[prevIndex[j]];
    }
    release = placement.surplusToRelease(count, quota, seed);
  }

  /**
   * Returns whether the step copies clearly less than the full pass reads. The step copies the
   * partition list of every member that releases or gains, and one chunk per orphan at most: cheap
   * when few members change (a join or leave among many members, P / N partitions each), but when
   * nearly every member gives or takes one partition (a join at N = 1,000 and P = 2^20), those
   * copies add up to the whole table, and the full pass is as fast.
   */
  private boolean cheaperThanFullPass(int[] quota) {
    int[] prevCounts = previous.primaryCountsUnsafe();
    long orphanCount = 0;
    long copied = 0;
    for (int i = 0; i < newIndexOfPrev.length; i++) {
      if (newIndexOfPrev[i] < 0) {
        orphanCount += prevCounts[i];
      }
    }
    for (int j = 0; j < n; j++) {
      orphanCount += release[j];
      if (release[j] > 0 || count[j] < quota[j]) {
        copied += count[j] + 1;
      }
    }
    // A chunk is one bulk copy, several times cheaper per entry than the full pass's work on a
    // partition (a read, a lookup and branches in each of its passes).
    long chunks = previous.chunks().length;
    copied += Math.min(orphanCount, chunks) * Assignment.CHUNK / 8;
    return copied < partitions / 2;
  }

  /**
   * Finds the orphans, ascending: every partition of a member that left, and the lowest surplus
   * partitions of each member over its quota (as many as the throttle lets go).
   */
  private void collectOrphans() {
    int[] prevCounts = previous.primaryCountsUnsafe();
    int[] prevSlotOf = previous.slotOf();
    int[][] lists = previous.slotPartitions();
    int total = 0;
    for (int i = 0; i < newIndexOfPrev.length; i++) {
      if (newIndexOfPrev[i] < 0) {
        total += prevCounts[i];
      }
    }
    for (int j = 0; j < n; j++) {
      total += release[j];
    }
    orphans = new int[total];
    int k = 0;
    for (int i = 0; i < newIndexOfPrev.length; i++) {
      if (newIndexOfPrev[i] < 0) {
        int[] list = lists[prevSlotOf[i]];
        System.arraycopy(list, 0, orphans, k, list.length);
        k += list.length;
      }
    }
    for (int j = 0; j < n; j++) {
      if (release[j] > 0) {
        System.arraycopy(lists[slotOf[j]], 0, orphans, k, release[j]);
        k += release[j];
        count[j] -= release[j];
      }
    }
    Arrays.sort(orphans);
  }

  /** A warm standby with room takes over the orphan it was standing by for. */
  private void failover(int[] deficit) {
    int[] prevIndexOfSlot = previous.indexOfSlot();
    for (int x = 0; x < orphans.length; x++) {
      int p = orphans[x];
      for (int r = 1; r < prevStride; r++) {
        int s = newIndexOfPrev[prevIndexOfSlot[previous.slot(p, r)]];
        if (s >= 0 && deficit[s] > 0) {
          owner[x] = s;
          deficit[s]--;
          count[s]++;
          break;
        }
      }
    }
  }

  /** Gives the remaining orphans, in order, to the members with a deficit, in seeded order. */
  private void fillDeficits(int[] deficit) {
    int takers = 0;
    for (int j = 0; j < n; j++) {
      if (deficit[j] > 0) {
        takers++;
      }
    }
    long[] keys = new long[takers];
    int t = 0;
    for (int j = 0; j < n; j++) {
      if (deficit[j] > 0) {
        // The key of BalancedPlacement.seededOrder, restricted to the members that can take.
        keys[t++] = ((seed[j] & ~0xFFFFFFL) | j) ^ Long.MIN_VALUE;
      }
    }
    Arrays.sort(keys);
    int x = 0;
    for (int k = 0; k < takers; k++) {
      int m = (int) (keys[k] & 0xFFFFFF);
      while (deficit[m] > 0) {
        while (x < owner.length && owner[x] >= 0) {
          x++;
        }
        if (x == owner.length) {
          break;
        }
        owner[x++] = m;
        deficit[m]--;
        count[m]++;
      }
    }
    for (; x < owner.length; x++) {
      if (owner[x] < 0) {
        throw new IllegalStateException(
            "internal error: partition " + orphans[x] + " left without an owner");
      }
    }
  }

  /**
   * Writes the moves into a copy of the previous table that shares every untouched chunk, and hands
   * the new per-slot primaries to the result.
   */
  private Assignment copyOnWrite(long version) {
    int[][] chunks = previous.chunks().clone();
    int last = -1;
    int[] gains = new int[n];
    for (int x = 0; x < orphans.length; x++) {
      int p = orphans[x];
      int c = p >>> Assignment.CHUNK_SHIFT;
      if (c != last) {
        chunks[c] = chunks[c].clone();
        last = c;
      }
      chunks[c][p & (Assignment.CHUNK - 1)] = slotOf[owner[x]];
      gains[owner[x]]++;
    }
    Assignment next =
        new Assignment(
            Strategy.BALANCED,
            version,
            placement.partitioner(),
            placement.replicas(),
            ms,
            slotOf,
            slotMembers,
            chunks,
            count);
    next.slotPartitions(partitionsPerSlot(gains));
    next.slotSeeds(slotSeeds);
    return next;
  }

  /**
   * Returns each slot's primaries after the step: the previous list less its released prefix,
   * merged with the orphans it took (ascending, as the orphans are).
   */
  private int[][] partitionsPerSlot(int[] gains) {
    int[][] prevLists = previous.slotPartitions();
    int[][] lists = Arrays.copyOf(prevLists, slotMembers.length);
    int[] prevSlotOf = previous.slotOf();
    for (int i = 0; i < newIndexOfPrev.length; i++) {
      if (newIndexOfPrev[i] < 0) {
        lists[prevSlotOf[i]] = NONE;
      }
    }
    int[] start = new int[n + 1];
    for (int j = 0; j < n; j++) {
      start[j + 1] = start[j] + gains[j];
    }
    int[] gained = new int[orphans.length];
    int[] fill = Arrays.copyOf(start, n);
    for (int x = 0; x < orphans.length; x++) {
      gained[fill[owner[x]]++] = orphans[x];
    }
    for (int j = 0; j < n; j++) {
      int s = slotOf[j];
      if (prevIndex[j] < 0) {
        lists[s] = Arrays.copyOfRange(gained, start[j], start[j + 1]);
      } else if (gains[j] > 0 || release[j] > 0) {
        lists[s] = merge(lists[s], release[j], gained, start[j], start[j + 1]);
      }
    }
    return lists;
  }

  private static int[] merge(int[] a, int from, int[] b, int bFrom, int bTo) {
    int[] out = new int[a.length - from + bTo - bFrom];
    int i = from;
    int j = bFrom;
    int k = 0;
    while (i < a.length && j < bTo) {
      out[k++] = a[i] < b[j] ? a[i++] : b[j++];
    }
    while (i < a.length) {
      out[k++] = a[i++];
    }
    while (j < bTo) {
      out[k++] = b[j++];
    }
    return out;
  }

  /** Lays the primaries out flat by member index and runs the full standby pass over them. */
  private Assignment withStandbys(long version) {
    // The standby pass reads the previous table through a map to new indices; giving it the
    // previous table in slots, with a map from slots, spares a pass that maps every entry.
    int[] prevSlots = new int[partitions * prevStride];
    int at = 0;
    for (int[] chunk : previous.chunks()) {
      System.arraycopy(chunk, 0, prevSlots, at, chunk.length);
      at += chunk.length;
    }
    int[] prevSlotOf = previous.slotOf();
    int[] newIndexOfSlot = new int[previous.slotMembers().length];
    Arrays.fill(newIndexOfSlot, -1);
    for (int i = 0; i < prevSlotOf.length; i++) {
      newIndexOfSlot[prevSlotOf[i]] = newIndexOfPrev[i];
    }
    int[] table = new int[partitions * stride];
    for (int p = 0; p < partitions; p++) {
      table[p * stride] = newIndexOfSlot[prevSlots[p * prevStride]];
    }
    for (int x = 0; x < orphans.length; x++) {
      table[orphans[x] * stride] = owner[x];
    }
    if (stride > 1) {
      new BalancedPlacement.Standbys(
              ms, seed, partitions, stride, table, prevSlots, prevStride, newIndexOfSlot)
          .place();
    }
    Assignment next =
        new Assignment(
            Strategy.BALANCED,
            version,
            placement.partitioner(),
            placement.replicas(),
            ms,
            null,
            table,
            count);
    return next;
  }
}
