package io.ringwork.benchmarks.peers;

import io.ringwork.ring.Member;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A ketama ring as libketama builds it (Jones 2007): 160 points per member, four per MD5 digest of
 * {@code "<id>-<n>"} as little-endian unsigned 32-bit values, in a {@link TreeMap}; a key's owner
 * is the first point at or after the first four bytes of the key's MD5, wrapping around.
 */
final class Ketama implements KeyRing {

  private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(Ketama::md5);

  private final TreeMap<Long, String> ring = new TreeMap<>();

  Ketama(List<Member> members, int points) {
    MessageDigest md = md5();
    for (Member m : members) {
      for (int d = 0; d < points / 4; d++) {
        byte[] digest = md.digest((m.id() + "-" + d).getBytes(StandardCharsets.UTF_8));
        for (int h = 0; h < 4; h++) {
          ring.put(le32(digest, h * 4), m.id());
        }
      }
    }
  }

  @Override
  public String owner(String key) {
    MessageDigest md = MD5.get();
    long h = le32(md.digest(key.getBytes(StandardCharsets.UTF_8)), 0);
    Map.Entry<Long, String> e = ring.ceilingEntry(h);
    return e != null ? e.getValue() : ring.firstEntry().getValue();
  }

  private static long le32(byte[] b, int off) {
    return (b[off] & 0xFFL)
        | (b[off + 1] & 0xFFL) << 8
        | (b[off + 2] & 0xFFL) << 16
        | (b[off + 3] & 0xFFL) << 24;
  }

  private static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
