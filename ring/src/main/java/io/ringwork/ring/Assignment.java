package io.ringwork.ring;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable table of partition to ordered owners (primary first, then standbys), computed for
 * one set of members.
 *
 * <p>The table is one flat {@code int[]} of member indices, {@link #ownersPerPartition()} entries
 * per partition, so that a lookup by key is one hash, one shift and two array reads, and allocates
 * nothing ({@link #primary(String)}). Members are kept sorted by id; an index into {@link
 * #members()} is stable for the life of the assignment.
 */
public final class Assignment implements Ring {

  private final String strategy;
  private final long version;
  private final Partitioner partitioner;
  private final int replicas;
  private final int stride;
  private final Member[] members;
  private final String[] ids;
  private final List<Member> memberList;
  private final Map<String, Integer> indexById;
  private final int[] owners;
  private final int[] primaryCounts;

  /** Per-member partition lists, built on first use (benign race: every build is identical). */
  private volatile int[][] primaryPartitions;

  /** Trusted constructor: the arrays are owned by the new instance and already valid. */
  Assignment(
      String strategy,
      long version,
      Partitioner partitioner,
      int replicas,
      Member[] sortedMembers,
      Map<String, Integer> indexById,
      int[] owners) {
    this(strategy, version, partitioner, replicas, sortedMembers, indexById, owners, null);
  }

  /** Trusted constructor that also takes the primary counts when the caller has them. */
  Assignment(
      String strategy,
      long version,
      Partitioner partitioner,
      int replicas,
      Member[] sortedMembers,
      Map<String, Integer> indexById,
      int[] owners,
      int[] primaryCounts) {
    this.strategy = strategy;
    this.version = version;
    this.partitioner = partitioner;
    this.replicas = replicas;
    this.members = sortedMembers;
    this.ids = new String[sortedMembers.length];
    for (int i = 0; i < sortedMembers.length; i++) {
      ids[i] = sortedMembers[i].id();
    }
    this.memberList = Collections.unmodifiableList(Arrays.asList(sortedMembers));
    this.indexById = indexById;
    this.stride = Math.min(replicas, sortedMembers.length);
    this.owners = owners;
    if (primaryCounts == null) {
      primaryCounts = new int[sortedMembers.length];
      for (int p = 0; p < partitioner.partitions(); p++) {
        primaryCounts[owners[p * stride]]++;
      }
    }
    this.primaryCounts = primaryCounts;
  }

  /**
   * Rebuilds an assignment from its table, for example one read back from storage.
   *
   * @param strategy the name of the strategy that computed it
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
      String strategy,
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
  public String strategy() {
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
    return new Assignment(strategy, newVersion, partitioner, replicas, members, indexById, owners);
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
    Integer i = indexById.get(id);
    return i == null ? Optional.empty() : Optional.of(members[i]);
  }

  /** Returns the index of a member in {@link #members()}, or -1 when it is not part of it. */
  public int indexOf(String memberId) {
    Integer i = indexById.get(memberId);
    return i == null ? -1 : i;
  }

  /** Returns the partition of a key. Does not allocate. */
  public int partition(String key) {
    return partitioner.partition(key);
  }

  @Override
  public Member primary(String key) {
    return members[owners[partitioner.partition(key) * stride]];
  }

  /**
   * Returns the id of a key's primary: the lookup without reading the {@link Member}, a cache miss
   * less in a large group. Does not allocate.
   */
  public String primaryId(String key) {
    return ids[owners[partitioner.partition(key) * stride]];
  }

  /**
   * Returns the primary of a routing key given as its UTF-8 bytes (see {@link
   * Partitioner#partitionOfRoutingKey(byte[])}). Does not allocate.
   */
  public Member primaryOfRoutingKey(byte[] utf8) {
    return members[owners[partitioner.partitionOfRoutingKey(utf8) * stride]];
  }

  /** Returns the id of the primary of a routing key given as its UTF-8 bytes. */
  public String primaryIdOfRoutingKey(byte[] utf8) {
    return ids[owners[partitioner.partitionOfRoutingKey(utf8) * stride]];
  }

  /**
   * Returns the primary of a routing key given as the UTF-8 bytes remaining in a buffer, which is
   * left as it was.
   */
  public Member primaryOfRoutingKey(ByteBuffer utf8) {
    return members[owners[partitioner.partitionOfRoutingKey(utf8) * stride]];
  }

  /**
   * Returns the primary owner of a partition.
   *
   * @throws IndexOutOfBoundsException if the partition is not in {@code [0, P)}
   */
  public Member primary(int partition) {
    return members[primaryIndex(partition)];
  }

  /**
   * Returns the index in {@link #members()} of a partition's primary.
   *
   * @throws IndexOutOfBoundsException if the partition is not in {@code [0, P)}
   */
  public int primaryIndex(int partition) {
    return owners[checkPartition(partition) * stride];
  }

  /**
   * Returns the index in {@link #members()} of a partition's owner of the given rank (0 is the
   * primary).
   *
   * @throws IndexOutOfBoundsException if the partition or rank is out of range
   */
  public int ownerIndex(int partition, int rank) {
    Objects.checkIndex(rank, stride);
    return owners[checkPartition(partition) * stride + rank];
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
    int base = checkPartition(partition) * stride;
    Member[] result = new Member[stride];
    for (int r = 0; r < stride; r++) {
      result[r] = members[owners[base + r]];
    }
    return List.of(result);
  }

  /**
   * Returns the partitions a member is primary of, ascending; empty when it is not a member.
   * Computed once per assignment in O(P), then O(1).
   */
  public int[] partitionsOf(String memberId) {
    int i = indexOf(memberId);
    return i < 0 ? new int[0] : primaryPartitionsIndex()[i].clone();
  }

  /** Returns the partitions a member is a standby of (rank 1 and up), ascending. O(P). */
  public int[] standbyPartitionsOf(String memberId) {
    int i = indexOf(memberId);
    if (i < 0 || stride < 2) {
      return new int[0];
    }
    int[] buf = new int[16];
    int n = 0;
    for (int p = 0; p < partitions(); p++) {
      for (int r = 1; r < stride; r++) {
        if (owners[p * stride + r] == i) {
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
    return owners.clone();
  }

  /** Reads the table without copying; for the placements in this package. */
  int[] tableUnsafe() {
    return owners;
  }

  Member[] memberArray() {
    return members;
  }

  private int checkPartition(int partition) {
    return Objects.checkIndex(partition, partitioner.partitions());
  }

  private int[][] primaryPartitionsIndex() {
    int[][] index = primaryPartitions;
    if (index == null) {
      index = new int[members.length][];
      for (int i = 0; i < members.length; i++) {
        index[i] = new int[primaryCounts[i]];
      }
      int[] fill = new int[members.length];
      for (int p = 0; p < partitions(); p++) {
        int m = owners[p * stride];
        index[m][fill[m]++] = p;
      }
      primaryPartitions = index;
    }
    return index;
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

  static Map<String, Integer> newIndex(int expected) {
    return new HashMap<>(Math.max(16, expected * 2));
  }

  static List<Member> asList(Member[] members) {
    return new ArrayList<>(Arrays.asList(members));
  }
}
