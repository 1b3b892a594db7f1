package io.ringwork.ring;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The consistent-hash ring of OpenStack tooz's {@code tooz.hashring.HashRing}, reproduced exactly
 * so that a Java worker and a Python one (Ironic, Ceilometer) agree on the owners of every key.
 *
 * <p>The construction, as in tooz:
 *
 * <ul>
 *   <li>Each node gets {@code pointsPerNode * weight} points (tooz's {@code partitions}, default
 *       {@code 2**5}). A running MD5 digest per node starts over the node name's UTF-8 bytes and is
 *       updated with those bytes again before each point is read, so point {@code r} is the MD5 of
 *       the name repeated {@code r + 2} times, read as a big-endian unsigned 128-bit integer.
 *   <li>A key's position is the MD5 of its UTF-8 bytes. Its partition is the index of the first
 *       point strictly greater than the position ({@code bisect.bisect}, i.e. bisect-right),
 *       wrapping to 0 past the last point.
 *   <li>{@code get_nodes(key, ignore_nodes, replicas)} walks clockwise from that point collecting
 *       distinct nodes not ignored, until it has {@code min(replicas, candidates)} of them.
 * </ul>
 *
 * <p>Weights must be whole numbers, as in tooz. Unlike tooz, a weight of 0 is rejected instead of
 * hanging lookups. Points that collide (two equal 128-bit digests) keep the node whose id sorts
 * last, as tooz's dict assignment keeps the last one written.
 */
public final class ToozRing implements Ring {

  private static final ThreadLocal<MessageDigest> KEY_DIGEST =
      ThreadLocal.withInitial(ToozRing::md5);

  private final Member[] members;
  private final List<Member> memberList;
  private final int pointsPerNode;
  private final int replicas;
  private final long[] hi;
  private final long[] lo;
  private final int[] node;

  private ToozRing(Member[] members, int pointsPerNode, int replicas) {
    this.members = members;
    this.memberList = Collections.unmodifiableList(Arrays.asList(members));
    this.pointsPerNode = pointsPerNode;
    this.replicas = replicas;
    int total = 0;
    for (Member m : members) {
      total = Math.addExact(total, Math.multiplyExact(pointsPerNode, (int) m.weight()));
    }
    long[][] points = new long[total][];
    int k = 0;
    for (int i = 0; i < members.length; i++) {
      byte[] name = members[i].id().getBytes(StandardCharsets.UTF_8);
      MessageDigest md = md5();
      md.update(name);
      int count = pointsPerNode * (int) members[i].weight();
      for (int r = 0; r < count; r++) {
        md.update(name);
        byte[] digest = cloneOf(md).digest();
        points[k++] = new long[] {readLong(digest, 0), readLong(digest, 8), i};
      }
    }
    Arrays.sort(
        points,
        (a, b) -> {
          int c = Long.compareUnsigned(a[0], b[0]);
          if (c == 0) {
            c = Long.compareUnsigned(a[1], b[1]);
          }
          return c != 0 ? c : Long.compare(a[2], b[2]);
        });
    int unique = 0;
    long[] h = new long[total];
    long[] l = new long[total];
    int[] nd = new int[total];
    for (int j = 0; j < total; j++) {
      if (unique > 0 && h[unique - 1] == points[j][0] && l[unique - 1] == points[j][1]) {
        nd[unique - 1] = (int) points[j][2];
        continue;
      }
      h[unique] = points[j][0];
      l[unique] = points[j][1];
      nd[unique] = (int) points[j][2];
      unique++;
    }
    this.hi = Arrays.copyOf(h, unique);
    this.lo = Arrays.copyOf(l, unique);
    this.node = Arrays.copyOf(nd, unique);
  }

  /**
   * Builds the ring of tooz's {@code HashRing(nodes, partitions=pointsPerNode)} with each node
   * added at its weight.
   *
   * @param pointsPerNode tooz's {@code partitions}: points per unit of weight, at least 1
   * @param replicas owners returned by {@link #owners(String)}, at least 1
   * @throws IllegalArgumentException if the members are empty or repeat an id, a weight is not a
   *     whole number, or {@code pointsPerNode} or {@code replicas} is less than 1
   */
  public static ToozRing of(Collection<Member> members, int pointsPerNode, int replicas) {
    if (pointsPerNode < 1) {
      throw new IllegalArgumentException(
          "tooz points per node (partitions) must be at least 1, got " + pointsPerNode);
    }
    Assignment.checkReplicas(replicas);
    Member[] sorted = Placements.sortedMembers(members);
    for (Member m : sorted) {
      if (m.weight() != Math.rint(m.weight()) || m.weight() > 1_000_000) {
        throw new IllegalArgumentException(
            "weight must be a whole number (at most 1000000) for the tooz strategy, got "
                + m.weight()
                + " for member '"
                + m.id()
                + "'");
      }
    }
    return new ToozRing(sorted, pointsPerNode, replicas);
  }

  @Override
  public Strategy strategy() {
    return Strategy.TOOZ;
  }

  @Override
  public List<Member> members() {
    return memberList;
  }

  /** Returns tooz's {@code partitions}: the points per unit of weight. */
  public int pointsPerNode() {
    return pointsPerNode;
  }

  /** Returns the owners returned per key by {@link #owners(String)}. */
  public int replicas() {
    return replicas;
  }

  /** Returns the number of points on the ring. */
  public int points() {
    return hi.length;
  }

  /** Returns the index of the ring point that owns a key: tooz's {@code _get_partition}. */
  public int point(String key) {
    MessageDigest md = KEY_DIGEST.get();
    md.reset();
    byte[] digest = md.digest(key.getBytes(StandardCharsets.UTF_8));
    long h = readLong(digest, 0);
    long l = readLong(digest, 8);
    // bisect_right: the first point strictly greater than (h, l).
    int low = 0;
    int high = hi.length;
    while (low < high) {
      int mid = (low + high) >>> 1;
      int c = Long.compareUnsigned(hi[mid], h);
      if (c == 0) {
        c = Long.compareUnsigned(lo[mid], l);
      }
      if (c > 0) {
        high = mid;
      } else {
        low = mid + 1;
      }
    }
    return low < hi.length ? low : 0;
  }

  @Override
  public Member primary(String key) {
    return members[node[point(key)]];
  }

  @Override
  public List<Member> owners(String key) {
    return owners(key, replicas, Set.of());
  }

  /**
   * Returns the owners of a key as tooz's {@code get_nodes(key, ignore_nodes, replicas)} would, in
   * ring order: the first is the primary.
   *
   * @param ignore ids of nodes to skip while walking the ring
   * @throws IllegalArgumentException if {@code replicas} is less than 1
   */
  public List<Member> owners(String key, int replicas, Collection<String> ignore) {
    Objects.requireNonNull(key, "key");
    Assignment.checkReplicas(replicas);
    boolean[] skip = new boolean[members.length];
    int candidates = members.length;
    for (String id : ignore) {
      int i = indexOf(id);
      if (i >= 0 && !skip[i]) {
        skip[i] = true;
        candidates--;
      }
    }
    int want = Math.min(replicas, candidates);
    List<Member> result = new ArrayList<>(want);
    int point = point(key);
    while (result.size() < want) {
      int m = node[point];
      if (!skip[m]) {
        skip[m] = true;
        result.add(members[m]);
      }
      point = point + 1 < hi.length ? point + 1 : 0;
    }
    return Collections.unmodifiableList(result);
  }

  private int indexOf(String id) {
    int low = 0;
    int high = members.length - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int c = members[mid].id().compareTo(id);
      if (c == 0) {
        return mid;
      } else if (c < 0) {
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return -1;
  }

  private static long readLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[off + i] & 0xFF);
    }
    return v;
  }

  private static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no MD5, which every Java platform must", e);
    }
  }

  private static MessageDigest cloneOf(MessageDigest md) {
    try {
      return (MessageDigest) md.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("MD5 digest cannot be cloned", e);
    }
  }

  @Override
  public String toString() {
    return "ToozRing{members="
        + members.length
        + ", pointsPerNode="
        + pointsPerNode
        + ", points="
        + hi.length
        + "}";
  }
}
