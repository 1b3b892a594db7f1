package io.ringwork.benchmarks;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Placement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Where the time of a {@code balanced} lookup goes, on the keys of {@link LookupBenchmark} (10,000
 * members, P = 65,536): the whole lookup ({@link #lookup}), its hash of a {@code String} ({@link
 * #hashString}: UTF-8 encoding into a per-thread buffer, then XXH3-64), XXH3-64 alone over the
 * precomputed UTF-8 bytes ({@link #hashBytes}), the JDK's allocating {@code getBytes(UTF_8)} then
 * XXH3-64 ({@link #hashGetBytes}), the table read alone for a precomputed partition ({@link
 * #tableRead}), the lookup plus reading the member's id ({@link #lookupId}), a proposed faster
 * encoder ({@link #hashProposed}, and the lookup with it, {@link #lookupProposed}) and a bound on
 * any such encoder ({@link #hashBulkCopyBound}). A diagnostic for tuning ring, not a comparison
 * with peers.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LookupCostBenchmark -f 1 -wi 3 -w 1s -i
 * 5 -r 1s -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LookupCostBenchmark {

  private static final int KEYS = LookupBenchmark.KEYS;

  private Assignment assignment;
  private String[] keys;
  private byte[][] utf8;
  private int[] partitions;
  private int next;

  /** Builds the assignment, the keys, their UTF-8 bytes and their partitions. */
  @Setup(Level.Trial)
  public void setUp() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      members.add(Member.of("member-" + i));
    }
    assignment =
        ((PartitionPlacement) Placement.newBuilder().partitions(65_536).build())
            .assign(null, members);
    keys = LookupBenchmark.keys();
    utf8 = new byte[KEYS][];
    partitions = new int[KEYS];
    for (int i = 0; i < KEYS; i++) {
      utf8[i] = keys[i].getBytes(StandardCharsets.UTF_8);
      partitions[i] = assignment.partition(keys[i]);
    }
  }

  private int advance() {
    int i = next;
    next = i + 1 == KEYS ? 0 : i + 1;
    return i;
  }

  /** Ring's whole lookup: {@code primary(key)}. */
  @Benchmark
  public Member lookup() {
    return assignment.primary(keys[advance()]);
  }

  /** Ring's hash of a {@code String}. */
  @Benchmark
  public long hashString() {
    return Partitioner.hash(keys[advance()]);
  }

  /** XXH3-64 over the key's precomputed UTF-8 bytes. */
  @Benchmark
  public long hashBytes() {
    return Partitioner.hash(utf8[advance()]);
  }

  /** The JDK's allocating {@code getBytes(UTF_8)}, then XXH3-64. */
  @Benchmark
  public long hashGetBytes() {
    return Partitioner.hash(keys[advance()].getBytes(StandardCharsets.UTF_8));
  }

  /** The primary of the key's precomputed partition. */
  @Benchmark
  public Member tableRead() {
    return assignment.primary(partitions[advance()]);
  }

  /** Ring's lookup, then the member's id. */
  @Benchmark
  public String lookupId() {
    return assignment.primary(keys[advance()]).id();
  }

  /**
   * A bound, not a correct encoder: the JDK's bulk {@code getBytes(int, int, byte[], int)} copies a
   * Latin-1 string's bytes with one array copy but truncates chars above 0xFF, so ring could only
   * use it once it knows the key is ASCII. It shows what the hash costs when the copy is nearly
   * free.
   */
  @Benchmark
  @SuppressWarnings("deprecation")
  public long hashBulkCopyBound() {
    String key = keys[advance()];
    int n = key.length();
    Buffers b = BUFFERS.get();
    if (b.bytes.length < n) {
      b.bytes = new byte[3 * n];
    }
    key.getBytes(0, n, b.bytes, 0);
    return XXH3.hashBytesToLong(b.bytes, 0, n);
  }

  /**
   * A proposal for ring's {@code Partitioner.hash(String)}, correct for every string: one loop with
   * no exit but its bound narrows every char to a byte (the JIT unrolls it and drops its range
   * checks), a second loop checks that no char is at or above 0x80, and only then does the general
   * UTF-8 encoder run, out of line, over the whole key again. Ring's current encoder fuses the copy
   * and the check into one loop with an early exit, which the JIT compiles much less well.
   */
  @Benchmark
  public long hashProposed() {
    String key = keys[advance()];
    return proposedHash(key, 0, key.length());
  }

  /** {@link #lookup} with {@link #hashProposed}'s encoder in place of ring's. */
  @Benchmark
  public Member lookupProposed() {
    String key = keys[advance()];
    return assignment.primary(
        assignment.partitioner().partitionOfHash(proposedHash(key, 0, key.length())));
  }

  static long proposedHash(String s, int start, int end) {
    Buffers b = BUFFERS.get();
    int length = end - start;
    if (b.bytes.length < 3 * length) {
      b.bytes = new byte[3 * length];
    }
    byte[] out = b.bytes;
    for (int i = 0; i < length; i++) {
      out[i] = (byte) s.charAt(start + i);
    }
    for (int i = start; i < end; i++) {
      if (s.charAt(i) >= 0x80) {
        return XXH3.hashBytesToLong(out, 0, encodeRest(s, start, end, out, 0));
      }
    }
    return XXH3.hashBytesToLong(out, 0, length);
  }

  /** UTF-8 of {@code s[i, end)} into {@code out} from {@code n}, as {@code getBytes(UTF_8)}. */
  static int encodeRest(String s, int i, int end, byte[] out, int n) {
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

  private static final Hasher64 XXH3 = Hashing.xxh3_64();
  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  private static final class Buffers {
    byte[] bytes = new byte[768];
  }
}
