package io.ringwork.ring;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable table of partition to ordered owners (primary first, then standbys), computed for
 * one set of members.
 *
 * <p>Members are kept sorted by id; an index into {@link #members()} is stable for the life of the
 * assignment. Inside, the table holds <em>slots</em> rather than those indices: a slot names a
 * member for as long as it stays in a chain of assignments computed one from the other, so a join
 * that shifts the sorted indices of half the members rewrites no table entry. The table is cut into
 * chunks of {@value #CHUNK} partitions ({@link #ownersPerPartition()} slots per partition), which a
 * successor shares unless one of their partitions changed: a step that moves k partitions copies at
 * most k chunks, not the whole table (a persistent array by path copying, Driscoll, Sarnak, Sleator
 * and Tarjan, "Making data structures persistent", JCSS 1989). A lookup by key is still one hash,
 * one shift and three array reads, and allocates nothing ({@link #primary(String)}).
 */
public final class Assignment implements Ring {

  /** Log2 of the partitions per chunk of the table. */
  static final int CHUNK_SHIFT = 9;

  /** Partitions per chunk of the table. */
  static final int CHUNK = 1 << CHUNK_SHIFT;

  private static final int CHUNK_MASK = CHUNK - 1;

  private final Strategy strategy;
  private final long version;
  private final Partitioner partitioner;
  private final int replicas;
  private final int stride;
  private final Member[] members;
  private final List<Member> memberList;
  private final int[] primaryCounts;

  /** The slot of each member, by index into {@link #members}. */
  private final int[] slotOf;

  /** The member of each slot, null for a free slot. */
  private final Member[] slotMembers;

  /** The id of each slot's member, null for a free slot: read by the lookups. */
  private final String[] slotIds;

  /**
   * The table of slots: chunk {@code p >>> CHUNK_SHIFT}, entry {@code (p & CHUNK_MASK) * stride +
   * rank}.
   */
  private final int[][] chunks;

  /** Index by id, built on first use (benign race: every build is identical). */
  private volatile Map<String, Integer> indexById;

  /** The index of each slot's member, -1 for a free slot; built on first use. */
  private volatile int[] indexOfSlot;

  /** Each slot's primary partitions, ascending; built on first use or handed over by a step. */
  private volatile int[][] slotPartitions;

  /** Each slot's placement seed (see {@link Placements#seedOf}); built on first use. */
  private volatile long[] slotSeeds;

  /** Trusted constructor: the arrays are owned by the new instance and already valid. */
  Assignment(
      Strategy strategy,
      long version,
      Partitioner partitioner,
      int replicas,
      Member[] sortedMembers,
      Map<String, Integer> indexById,
      int[] owners) {
    this(strategy, version, partitioner, replicas, sortedMembers, indexById, owners, null);
  }

  /**
   * Trusted constructor from a flat table of member indices, which becomes a table of slots equal
   * to the indices; it also takes the primary counts when the caller has them.
   */
  Assignment(
      Strategy strategy,
      long version,
      Partitioner partitioner,
      int replicas,
      Member[] sortedMembers,
      Map<String, Integer> indexById,
      int[] owners,
      int[] primaryCounts) {
    this(
        strategy,
        version,
        partitioner,
        replicas,
        sortedMembers,
        identity(sortedMembers.length),
        sortedMembers,
        chunk(owners, Math.min(replicas, sortedMembers.length), partitioner.partitions()),
        primaryCounts != null
            ? primaryCounts
            : countPrimaries(
                owners,
                Math.min(replicas, sortedMembers.length),
                partitioner.partitions(),
                sortedMembers.length));
    this.indexById = indexById;
  }

  /**
   * Trusted constructor from a table of slots, for a step that derives this assignment from
   * another: everything is owned by the new instance and consistent.
   *
   * @param slotOf the slot of each member, by index into {@code sortedMembers}
   * @param slotMembers the member of each slot, null for a free slot
   * @param chunks the table of slots, chunked
   * @param primaryCounts the primary count of each member, by index
   */
  Assignment(
      Strategy strategy,
      long version,
      Partitioner partitioner,
      int replicas,
      Member[] sortedMembers,
      int[] slotOf,
      Member[] slotMembers,
      int[][] chunks,
      int[] primaryCounts) {
    this.strategy = strategy;
    this.version = version;
    this.partitioner = partitioner;
    this.replicas = replicas;
    this.members = sortedMembers;
    this.memberList = Collections.unmodifiableList(Arrays.asList(sortedMembers));
    this.stride = Math.min(replicas, sortedMembers.length);
    this.slotOf = slotOf;
    this.slotMembers = slotMembers;
    this.slotIds = new String[slotMembers.length];
    for (int s = 0; s < slotMembers.length; s++) {
      slotIds[s] = slotMembers[s] == null ? null : slotMembers[s].id();
    }
    this.chunks = chunks;
    this.primaryCounts = primaryCounts;
  }

  private static int[] identity(int n) {
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = i;
    }
    return ids;
  }

  private static int[] countPrimaries(int[] owners, int stride, int partitions, int n) {
    int[] counts = new int[n];
    for (int p = 0; p < partitions; p++) {
      counts[owners[p * stride]]++;
    }
    return counts;
  }

  /** Cuts a flat table into chunks of {@value #CHUNK} partitions. */
  static int[][] chunk(int[] flat, int stride, int partitions) {
    int count = (partitions + CHUNK - 1) >>> CHUNK_SHIFT;
    int[][] result = new int[count][];
    for (int c = 0; c < count; c++) {
      int from = c * CHUNK * stride;
      result[c] = Arrays.copyOfRange(flat, from, Math.min(flat.length, from + CHUNK * stride));
    }
    return result;
  }

  /**
   * Rebuilds an assignment from its table, for example one read back from storage.
   *
   * @param strategy the strategy that computed it
   * @param version the version, non-negative
   * @param partitioner the key partitioner, which fixes P
   * @param replicas the requested owners per partition, at least 1
   * @param members the members, in any order; they are sorted by id
   * @param table for each partition in order, {@code min(replicas, members.size())} indices into
   *     {@code members} sorted by id, primary first
   * @throws IllegalArgumentException if the members are empty or repeat an id, or the table has the
   *     wrong length, an index out of range, or a member twice in one partition
   */
  public static Assignment fromTable(
      Strategy strategy,
      long version,
      Partitioner partitioner,
      int replicas,
      List<Member> members,
      int[] table) {
    Objects.requireNonNull(strategy, "strategy");
    Objects.requireNonNull(partitioner, "partitioner");
    if (version < 0) {
      throw new IllegalArgumentException("version must be non-negative, got " + version);
    }
    checkReplicas(replicas);
    Member[] sorted = Placements.sortedMembers(members);
    int stride = Math.min(replicas, sorted.length);
    int expected = partitioner.partitions() * stride;
    if (table.length != expected) {
      throw new IllegalArgumentException(
          "table must have P * owners = "
              + partitioner.partitions()
              + " * "
              + stride
              + " = "
              + expected
              + " entries, got "
              + table.length);
    }
    for (int p = 0; p < partitioner.partitions(); p++) {
      for (int r = 0; r < stride; r++) {
        int m = table[p * stride + r];
        if (m < 0 || m >= sorted.length) {
          throw new IllegalArgumentException(
              "owner index " + m + " out of range [0, " + sorted.length + ") at partition " + p);
        }
        for (int s = 0; s < r; s++) {
          if (table[p * stride + s] == m) {
            throw new IllegalArgumentException(
                "member '" + sorted[m].id() + "' is listed twice as an owner of partition " + p);
          }
        }
      }
    }
    return new Assignment(
        strategy,
        version,
        partitioner,
        replicas,
        sorted,
        Placements.indexById(sorted),
        table.clone());
  }

  static void checkReplicas(int replicas) {
    if (replicas < 1) {
      throw new IllegalArgumentException("replicas must be at least 1, got " + replicas);
    }
  }

  @Override
  public Strategy strategy() {
    return strategy;
  }

  /** Returns the version: 1 for a first assignment, one more than its predecessor after that. */
  public long version() {
    return version;
  }

  /** Returns a copy of this assignment with another version. */
  public Assignment withVersion(long newVersion) {
    if (newVersion < 0) {
      throw new IllegalArgumentException("version must be non-negative, got " + newVersion);
    }
    Assignment copy =
        new Assignment(
            strategy,
            newVersion,
            partitioner,
            replicas,
            members,
            slotOf,
            slotMembers,
            chunks,
            primaryCounts);
    copy.indexById = indexById;
    copy.indexOfSlot = indexOfSlot;
    copy.slotPartitions = slotPartitions;
    copy.slotSeeds = slotSeeds;
    return copy;
  }

  /** Returns the partitioner that maps keys to partitions. */
  public Partitioner partitioner() {
    return partitioner;
  }

  /** Returns the partition count P. */
  public int partitions() {
    return partitioner.partitions();
  }

  /** Returns the requested number of owners per partition. */
  public int replicas() {
    return replicas;
  }

  /** Returns the actual number of owners per partition: {@code min(replicas, members)}. */
  public int ownersPerPartition() {
    return stride;
  }

  @Override
  public List<Member> members() {
    return memberList;
  }

  /** Returns the member with this id, if it is part of this assignment. */
  public Optional<Member> member(String id) {
    Integer i = index().get(id);
    return i == null ? Optional.empty() : Optional.of(members[i]);
  }

  /** Returns the index of a member in {@link #members()}, or -1 when it is not part of it. */
  public int indexOf(String memberId) {
    Integer i = index().get(memberId);
    return i == null ? -1 : i;
  }

  /** Returns the partition of a key. Does not allocate. */
  public int partition(String key) {
    return partitioner.partition(key);
  }

  @Override
  public Member primary(String key) {
    return slotMembers[primarySlot(partitioner.partition(key))];
  }

  /**
   * Returns the id of a key's primary: the lookup without reading the {@link Member}, a cache miss
   * less in a large group. Does not allocate.
   */
  public String primaryId(String key) {
    return slotIds[primarySlot(partitioner.partition(key))];
  }

  /**
   * Returns the primary of a routing key given as its UTF-8 bytes (see {@link
   * Partitioner#partitionOfRoutingKey(byte[])}). Does not allocate.
   */
  public Member primaryOfRoutingKey(byte[] utf8) {
    return slotMembers[primarySlot(partitioner.partitionOfRoutingKey(utf8))];
  }

  /** Returns the id of the primary of a routing key given as its UTF-8 bytes. */
  public String primaryIdOfRoutingKey(byte[] utf8) {
    return slotIds[primarySlot(partitioner.partitionOfRoutingKey(utf8))];
  }

  /**
   * Returns the primary of a routing key given as the UTF-8 bytes remaining in a buffer, which is
   * left as it was.
   */
  public Member primaryOfRoutingKey(ByteBuffer utf8) {
    return slotMembers[primarySlot(partitioner.partitionOfRoutingKey(utf8))];
  }

  /**
   * Returns the primary owner of a partition.
   *
   * @throws IndexOutOfBoundsException if the partition is not in {@code [0, P)}
   */
  public Member primary(int partition) {
    return slotMembers[primarySlot(checkPartition(partition))];
  }

  /**
   * Returns the index in {@link #members()} of a partition's primary.
   *
   * @throws IndexOutOfBoundsException if the partition is not in {@code [0, P)}
   */
  public int primaryIndex(int partition) {
    return indexOfSlot()[primarySlot(checkPartition(partition))];
  }

  /**
   * Returns the index in {@link #members()} of a partition's owner of the given rank (0 is the
   * primary).
   *
   * @throws IndexOutOfBoundsException if the partition or rank is out of range
   */
  public int ownerIndex(int partition, int rank) {
    Objects.checkIndex(rank, stride);
    return indexOfSlot()[slot(checkPartition(partition), rank)];
  }

  @Override
  public List<Member> owners(String key) {
    return owners(partitioner.partition(key));
  }

  /**
   * Returns the owners of a partition, primary first.
   *
   * @throws IndexOutOfBoundsException if the partition is not in {@code [0, P)}
   */
  public List<Member> owners(int partition) {
    checkPartition(partition);
    Member[] result = new Member[stride];
    for (int r = 0; r < stride; r++) {
      result[r] = slotMembers[slot(partition, r)];
    }
    return List.of(result);
  }

  /**
   * Returns the partitions a member is primary of, ascending; empty when it is not a member.
   * Computed once per assignment in O(P), then O(1).
   */
  public int[] partitionsOf(String memberId) {
    int i = indexOf(memberId);
    return i < 0 ? new int[0] : slotPartitions()[slotOf[i]].clone();
  }

  /** Returns the partitions a member is a standby of (rank 1 and up), ascending. O(P). */
  public int[] standbyPartitionsOf(String memberId) {
    int i = indexOf(memberId);
    if (i < 0 || stride < 2) {
      return new int[0];
    }
    int s = slotOf[i];
    int[] buf = new int[16];
    int n = 0;
    for (int p = 0; p < partitions(); p++) {
      for (int r = 1; r < stride; r++) {
        if (slot(p, r) == s) {
          if (n == buf.length) {
            buf = Arrays.copyOf(buf, n * 2);
          }
          buf[n++] = p;
        }
      }
    }
    return Arrays.copyOf(buf, n);
  }

  /** Returns the number of partitions a member is primary of; 0 when it is not a member. */
  public int primaryCount(String memberId) {
    int i = indexOf(memberId);
    return i < 0 ? 0 : primaryCounts[i];
  }

  /** Returns the number of partitions the member at an index is primary of. */
  public int primaryCount(int memberIndex) {
    return primaryCounts[memberIndex];
  }

  /** Returns the primary count of every member, in member order. */
  public Map<String, Integer> primaryCounts() {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (int i = 0; i < members.length; i++) {
      counts.put(members[i].id(), primaryCounts[i]);
    }
    return Collections.unmodifiableMap(counts);
  }

  /** Returns a copy of the table: {@link #ownersPerPartition()} member indices per partition. */
  public int[] table() {
    int[] ofSlot = indexOfSlot();
    int[] table = new int[partitions() * stride];
    int i = 0;
    for (int[] chunk : chunks) {
      for (int s : chunk) {
        table[i++] = ofSlot[s];
      }
    }
    return table;
  }

  // Package-private views for the placements and deltas in this package.

  /** Returns the slot of a partition's owner of a rank, unchecked. */
  int slot(int partition, int rank) {
    return chunks[partition >>> CHUNK_SHIFT][(partition & CHUNK_MASK) * stride + rank];
  }

  private int primarySlot(int partition) {
    return chunks[partition >>> CHUNK_SHIFT][(partition & CHUNK_MASK) * stride];
  }

  int[][] chunks() {
    return chunks;
  }

  int[] slotOf() {
    return slotOf;
  }

  Member[] slotMembers() {
    return slotMembers;
  }

  Member[] memberArray() {
    return members;
  }

  int[] primaryCountsUnsafe() {
    return primaryCounts;
  }

  /** Returns the index of each slot's member, -1 for a free slot. */
  int[] indexOfSlot() {
    int[] result = indexOfSlot;
    if (result == null) {
      result = new int[slotMembers.length];
      Arrays.fill(result, -1);
      for (int i = 0; i < slotOf.length; i++) {
        result[slotOf[i]] = i;
      }
      indexOfSlot = result;
    }
    return result;
  }

  /** Returns each slot's primaries, ascending (empty for a free slot); O(P) on first use. */
  int[][] slotPartitions() {
    int[][] result = slotPartitions;
    if (result == null) {
      result = new int[slotMembers.length][];
      int[] fill = new int[slotMembers.length];
      for (int s = 0; s < slotMembers.length; s++) {
        int i = indexOfSlot()[s];
        result[s] = new int[i < 0 ? 0 : primaryCounts[i]];
      }
      for (int p = 0; p < partitions(); p++) {
        int s = primarySlot(p);
        result[s][fill[s]++] = p;
      }
      slotPartitions = result;
    }
    return result;
  }

  /** Hands over the primaries per slot that a step computed along with this assignment. */
  void slotPartitions(int[][] perSlot) {
    slotPartitions = perSlot;
  }

  /** Returns each slot's placement seed (0 for a free slot); O(N) on first use. */
  long[] slotSeeds() {
    long[] result = slotSeeds;
    if (result == null) {
      result = new long[slotMembers.length];
      for (int s = 0; s < slotMembers.length; s++) {
        if (slotMembers[s] != null) {
          result[s] = Placements.seedOf(slotMembers[s]);
        }
      }
      slotSeeds = result;
    }
    return result;
  }

  /** Hands over the seeds per slot that a step computed along with this assignment. */
  void slotSeeds(long[] perSlot) {
    slotSeeds = perSlot;
  }

  private Map<String, Integer> index() {
    Map<String, Integer> result = indexById;
    if (result == null) {
      result = Placements.indexById(members);
      indexById = result;
    }
    return result;
  }

  private int checkPartition(int partition) {
    return Objects.checkIndex(partition, partitioner.partitions());
  }

  @Override
  public String toString() {
    return "Assignment{strategy="
        + strategy
        + ", version="
        + version
        + ", partitions="
        + partitions()
        + ", replicas="
        + replicas
        + ", members="
        + members.length
        + "}";
  }
}
