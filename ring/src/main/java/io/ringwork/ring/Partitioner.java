package io.ringwork.ring;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Maps a key to one of {@code P = 2^k} partitions.
 *
 * <p>The mapping is fixed and documented so that any language can reproduce it:
 *
 * <ol>
 *   <li>Take the routing key: the prefix of the key chosen by the {@link KeyRouter} (the whole key
 *       by default).
 *   <li>Encode it as UTF-8 bytes, exactly as {@code String.getBytes(UTF_8)} does (an unpaired
 *       surrogate becomes {@code '?'}).
 *   <li>Hash the bytes with XXH3-64 (the 64-bit variant of xxHash3, seed 0, default secret), read
 *       as an unsigned 64-bit integer {@code h}.
 *   <li>The partition is the top {@code k} bits of {@code h}: {@code h >>> (64 - k)}, and 0 when
 *       {@code k = 0}.
 * </ol>
 *
 * <p>For example, with {@code P = 4096} the key {@code "node-1"} goes to partition {@code
 * xxh3_64("node-1") >>> 52}. Using the top bits (rather than {@code h mod P}) means that doubling P
 * splits every partition into two adjacent ones, and XXH3's top bits are as well mixed as its low
 * ones. {@code PartitionerTest} pins fixed vectors.
 *
 * <p>Lookups do not allocate: the key is encoded into a per-thread buffer.
 */
public final class Partitioner {

  /** The largest partition count accepted, {@code 2^24}. */
  public static final int MAX_PARTITIONS = 1 << 24;

  private static final Hasher64 XXH3 = Hashing.xxh3_64();
  private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[256]);

  private final int partitions;
  private final int bits;
  private final KeyRouter router;

  private Partitioner(int partitions, KeyRouter router) {
    this.partitions = partitions;
    this.bits = Integer.numberOfTrailingZeros(partitions);
    this.router = router;
  }

  /**
   * Returns a partitioner over {@code partitions} partitions that routes on the whole key.
   *
   * @throws IllegalArgumentException if {@code partitions} is not a power of two between 1 and
   *     {@value #MAX_PARTITIONS}
   */
  public static Partitioner of(int partitions) {
    return of(partitions, KeyRouter.wholeKey());
  }

  /**
   * Returns a partitioner over {@code partitions} partitions with the given router.
   *
   * @throws IllegalArgumentException if {@code partitions} is not a power of two between 1 and
   *     {@value #MAX_PARTITIONS}
   */
  public static Partitioner of(int partitions, KeyRouter router) {
    checkPartitions(partitions);
    return new Partitioner(partitions, Objects.requireNonNull(router, "router"));
  }

  /**
   * Checks a partition count.
   *
   * @throws IllegalArgumentException if it is not a power of two between 1 and {@value
   *     #MAX_PARTITIONS}
   */
  public static void checkPartitions(int partitions) {
    if (partitions < 1 || partitions > MAX_PARTITIONS || Integer.bitCount(partitions) != 1) {
      throw new IllegalArgumentException(
          "partitions must be a power of two between 1 and "
              + MAX_PARTITIONS
              + ", got "
              + partitions);
    }
  }

  /** Returns the partition count P. */
  public int partitions() {
    return partitions;
  }

  /** Returns k, where P = 2^k. */
  public int bits() {
    return bits;
  }

  /** Returns the key router. */
  public KeyRouter router() {
    return router;
  }

  /**
   * Returns the partition of a key, in {@code [0, P)}.
   *
   * @throws NullPointerException if the key is null
   */
  public int partition(String key) {
    int end = router.routingKeyEnd(key);
    return partitionOfHash(hash(key, 0, end));
  }

  /** Returns the partition of a 64-bit routing-key hash: its top k bits. */
  public int partitionOfHash(long hash) {
    return bits == 0 ? 0 : (int) (hash >>> (64 - bits));
  }

  /** Returns the XXH3-64 (seed 0) hash of the UTF-8 bytes of a whole string. */
  public static long hash(String s) {
    return hash(s, 0, s.length());
  }

  /**
   * Returns the XXH3-64 (seed 0) hash of the UTF-8 bytes of {@code s.substring(start, end)},
   * without allocating.
   */
  @SuppressWarnings(
      "deprecation") // getBytes(int, int, byte[], int): exact for ASCII, used only then
  public static long hash(String s, int start, int end) {
    byte[] buf = BUFFER.get();
    int maxBytes = (end - start) * 3;
    if (buf.length < maxBytes) {
      buf = new byte[Math.max(maxBytes, buf.length * 2)];
      BUFFER.set(buf);
    }
    // The common all-ASCII key: one branch-free pass to check (the JIT vectorizes an OR over the
    // chars, unlike a loop that exits at the first wide char), then the JDK's bulk copy, which for
    // a Latin-1 string is one array copy and is exact when every char is below 0x80.
    int wide = 0;
    for (int i = start; i < end; i++) {
      wide |= s.charAt(i);
    }
    if (wide < 0x80) {
      s.getBytes(start, end, buf, 0);
      return XXH3.hashBytesToLong(buf, 0, end - start);
    }
    int n = encodeUtf8(s, start, end, buf);
    return XXH3.hashBytesToLong(buf, 0, n);
  }

  /** Returns the XXH3-64 (seed 0) hash of bytes. */
  public static long hash(byte[] bytes) {
    return XXH3.hashBytesToLong(bytes);
  }

  /**
   * Returns the partition of a routing key given as its UTF-8 bytes (the router is not applied: the
   * bytes are the routing key). The same as {@link #partition(String)} of the decoded key when the
   * router takes the whole key. Does not allocate.
   *
   * @throws NullPointerException if the bytes are null
   */
  public int partitionOfRoutingKey(byte[] utf8) {
    return partitionOfHash(XXH3.hashBytesToLong(utf8));
  }

  /**
   * Returns the partition of a routing key given as the UTF-8 bytes between {@code off} and {@code
   * off + len}. Does not allocate.
   *
   * @throws IndexOutOfBoundsException if the range is not inside the array
   */
  public int partitionOfRoutingKey(byte[] utf8, int off, int len) {
    Objects.checkFromIndexSize(off, len, utf8.length);
    return partitionOfHash(XXH3.hashBytesToLong(utf8, off, len));
  }

  /**
   * Returns the partition of a routing key given as the UTF-8 bytes remaining in a buffer, which is
   * left as it was. Does not allocate for a heap buffer; a direct buffer is copied into a
   * per-thread array.
   */
  public int partitionOfRoutingKey(ByteBuffer utf8) {
    int len = utf8.remaining();
    if (utf8.hasArray()) {
      return partitionOfHash(
          XXH3.hashBytesToLong(utf8.array(), utf8.arrayOffset() + utf8.position(), len));
    }
    byte[] buf = BUFFER.get();
    if (buf.length < len) {
      buf = new byte[Math.max(len, buf.length * 2)];
      BUFFER.set(buf);
    }
    utf8.get(utf8.position(), buf, 0, len);
    return partitionOfHash(XXH3.hashBytesToLong(buf, 0, len));
  }

  /**
   * Encodes {@code s[start, end)} as UTF-8 into {@code out}, which must hold {@code 3 * (end -
   * start)} bytes, and returns the length. It matches {@code String.getBytes(UTF_8)}, including
   * replacing an unpaired surrogate with {@code '?'}.
   */
  static int encodeUtf8(String s, int start, int end, byte[] out) {
    int n = 0;
    int i = start;
    // Fast path for the common all-ASCII key.
    while (i < end) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        break;
      }
      out[n++] = (byte) c;
      i++;
    }
    while (i < end) {
      char c = s.charAt(i++);
      if (c < 0x80) {
        out[n++] = (byte) c;
      } else if (c < 0x800) {
        out[n++] = (byte) (0xC0 | (c >> 6));
        out[n++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isHighSurrogate(c) && i < end && Character.isLowSurrogate(s.charAt(i))) {
        int cp = Character.toCodePoint(c, s.charAt(i++));
        out[n++] = (byte) (0xF0 | (cp >> 18));
        out[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        out[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        out[n++] = (byte) (0x80 | (cp & 0x3F));
      } else if (Character.isSurrogate(c)) {
        out[n++] = (byte) '?';
      } else {
        out[n++] = (byte) (0xE0 | (c >> 12));
        out[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        out[n++] = (byte) (0x80 | (c & 0x3F));
      }
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Partitioner other
        && other.partitions == partitions
        && other.router.equals(router);
  }

  @Override
  public int hashCode() {
    return partitions * 31 + router.hashCode();
  }

  @Override
  public String toString() {
    return "Partitioner{partitions=" + partitions + ", router=" + router + "}";
  }
}
