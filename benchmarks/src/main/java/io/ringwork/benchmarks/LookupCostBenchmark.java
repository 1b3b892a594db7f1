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
 * #tableRead}), the lookup plus reading the member's id ({@link #lookupId}), and a candidate ASCII
 * fast path for the hash ({@link #hashViaGetChars}). A diagnostic for tuning ring, not a comparison
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

  @Benchmark
  public Member lookup() {
    return assignment.primary(keys[advance()]);
  }

  @Benchmark
  public long hashString() {
    return Partitioner.hash(keys[advance()]);
  }

  @Benchmark
  public long hashBytes() {
    return Partitioner.hash(utf8[advance()]);
  }

  @Benchmark
  public long hashGetBytes() {
    return Partitioner.hash(keys[advance()].getBytes(StandardCharsets.UTF_8));
  }

  @Benchmark
  public Member tableRead() {
    return assignment.primary(partitions[advance()]);
  }

  @Benchmark
  public String lookupId() {
    return assignment.primary(keys[advance()]).id();
  }

  /**
   * A candidate ASCII fast path for ring: copy the chars in bulk with {@code getChars}, narrow them
   * to bytes while OR-ing them together, and hash when the OR shows no char at or above 0x80 (else
   * a full UTF-8 encoder would run; these keys are ASCII). Same hash as {@link #hashString}.
   */
  @Benchmark
  public long hashViaGetChars() {
    String key = keys[advance()];
    int n = key.length();
    Buffers b = BUFFERS.get();
    if (b.chars.length < n) {
      b.chars = new char[n];
      b.bytes = new byte[3 * n];
    }
    char[] chars = b.chars;
    byte[] bytes = b.bytes;
    key.getChars(0, n, chars, 0);
    int any = 0;
    for (int i = 0; i < n; i++) {
      char c = chars[i];
      any |= c;
      bytes[i] = (byte) c;
    }
    if (any >= 0x80) {
      return Partitioner.hash(key);
    }
    return XXH3.hashBytesToLong(bytes, 0, n);
  }

  private static final Hasher64 XXH3 = Hashing.xxh3_64();
  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  private static final class Buffers {
    char[] chars = new char[256];
    byte[] bytes = new byte[768];
  }
}
