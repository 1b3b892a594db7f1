package io.ringwork.benchmarks;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
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
 * #tableRead}), the lookup plus reading the member's id ({@link #lookupId}), the id lookup that
 * reads no member ({@link #lookupPrimaryId}), the lookup from UTF-8 bytes ({@link #lookupBytes})
 * and a bound on any encoder of a {@code String} ({@link #hashBulkCopyBound}). A diagnostic for
 * tuning ring, not a comparison with peers.
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
    assignment = Placement.newBuilder().partitions(65_536).buildPartitioned().assign(null, members);
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

  /** The id of the key's primary ({@code Assignment.primaryId}): no {@code Member} read. */
  @Benchmark
  public String lookupPrimaryId() {
    return assignment.primaryId(keys[advance()]);
  }

  /**
   * The id of the primary of a routing key given as UTF-8 bytes ({@code primaryIdOfRoutingKey}).
   */
  @Benchmark
  public String lookupBytes() {
    return assignment.primaryIdOfRoutingKey(utf8[advance()]);
  }

  /**
   * An attempt at a cheaper correct encoder for a {@code String} (issue 22, item 5): the JDK's
   * {@code getChars} (an intrinsic that inflates a Latin-1 string's bytes into chars, with SIMD),
   * then one OR over the chars and one narrowing copy, both loops over plain arrays that the JIT
   * may vectorize, instead of ring's OR over {@code charAt}. Correct only for ASCII keys, which the
   * OR checks; non-ASCII keys would take ring's general encoder.
   */
  @Benchmark
  public long hashViaChars() {
    String key = keys[advance()];
    int n = key.length();
    Buffers b = BUFFERS.get();
    if (b.chars.length < n) {
      b.chars = new char[2 * n];
      b.bytes = new byte[3 * n];
    }
    char[] chars = b.chars;
    byte[] bytes = b.bytes;
    key.getChars(0, n, chars, 0);
    int wide = 0;
    for (int i = 0; i < n; i++) {
      wide |= chars[i];
    }
    if (wide >= 0x80) {
      return Partitioner.hash(key);
    }
    for (int i = 0; i < n; i++) {
      bytes[i] = (byte) chars[i];
    }
    return XXH3.hashBytesToLong(bytes, 0, n);
  }

  private static final Hasher64 XXH3 = Hashing.xxh3_64();
  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  private static final class Buffers {
    byte[] bytes = new byte[768];
    char[] chars = new char[256];
  }
}
