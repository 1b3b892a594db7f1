package io.ringwork.simulator.plan;

import io.ringwork.ring.Member;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;

/**
 * A reference ketama ring (libketama, Jones 2007): each member gets {@code round(points * w /
 * minWeight)} points, four per MD5 digest of {@code "<id>-<n>"}, read as little-endian unsigned
 * 32-bit integers; a key belongs to the first point at or after the first four bytes of its MD5.
 */
final class KetamaRing {

  private final long[] points;
  private final String[] owners;

  KetamaRing(List<Member> members, int pointsPerMember) {
    double minWeight = members.stream().mapToDouble(Member::weight).min().orElse(1);
    int total = 0;
    int[] counts = new int[members.size()];
    for (int i = 0; i < counts.length; i++) {
      counts[i] =
          Math.max(
              4, (int) Math.round(pointsPerMember * members.get(i).weight() / minWeight / 4) * 4);
      total += counts[i];
    }
    long[] packed = new long[total];
    int n = 0;
    MessageDigest md5 = md5();
    for (int i = 0; i < counts.length; i++) {
      for (int d = 0; d < counts[i] / 4; d++) {
        byte[] digest =
            md5.digest((members.get(i).id() + "-" + d).getBytes(StandardCharsets.UTF_8));
        for (int h = 0; h < 4; h++) {
          long point = le32(digest, h * 4);
          packed[n++] = (point << 24) | i;
        }
      }
    }
    Arrays.sort(packed);
    points = new long[total];
    owners = new String[total];
    for (int k = 0; k < total; k++) {
      points[k] = packed[k] >>> 24;
      owners[k] = members.get((int) (packed[k] & 0xFFFFFF)).id();
    }
  }

  String owner(String key) {
    long h = le32(md5().digest(key.getBytes(StandardCharsets.UTF_8)), 0);
    int i = Arrays.binarySearch(points, h);
    if (i < 0) {
      i = -i - 1;
    }
    return owners[i == points.length ? 0 : i];
  }

  private static long le32(byte[] b, int off) {
    return (b[off] & 0xFFL)
        | (b[off + 1] & 0xFFL) << 8
        | (b[off + 2] & 0xFFL) << 16
        | (b[off + 3] & 0xFFL) << 24;
  }

  private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(KetamaRing::newMd5);

  private static MessageDigest md5() {
    MessageDigest md = MD5.get();
    md.reset();
    return md;
  }

  private static MessageDigest newMd5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
