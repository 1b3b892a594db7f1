package io.ringwork.benchmarks;

import io.ringwork.benchmarks.peers.KeyRing;
import io.ringwork.ring.Member;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The owner of a key: one lookup per operation, cycling through 1,000,000 precomputed random
 * 36-character UUID keys so that cache misses are real, among 10 to 10,000 members. The partitioned
 * rings ({@code balanced}, {@code rendezvous}) use P = 65,536; {@code tooz} is the tooz ring with
 * 32 points per member; {@code guava-jump} and {@code jumpback} hash the key with the same XXH3-64
 * as ours first; {@code ketama-160} is libketama's MD5 ring in a {@code TreeMap}.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LookupBenchmark -f 1 -wi 3 -w 1s -i 5
 * -r 1s -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LookupBenchmark {

  static final int KEYS = 1_000_000;

  @Param({"balanced", "rendezvous", "tooz", "guava-jump", "ketama-160", "jumpback"})
  public String ring;

  @Param({"10", "100", "1000", "10000"})
  public int members;

  private KeyRing keyRing;
  private String[] keys;
  private int next;

  /** Builds the ring over {@code members} members and the keys. */
  @Setup(Level.Trial)
  public void setUp() {
    List<Member> list = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      list.add(Member.of("member-" + i));
    }
    keyRing = KeyRing.create(ring, list, 65_536);
    keys = keys();
  }

  /** Returns the owner of the next key. */
  @Benchmark
  public String lookup() {
    String key = keys[next];
    if (++next == KEYS) {
      next = 0;
    }
    return keyRing.owner(key);
  }

  /** The same 1,000,000 random 36-character UUID strings for every run. */
  static String[] keys() {
    Random random = new Random(42);
    String[] keys = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = new UUID(random.nextLong(), random.nextLong()).toString();
    }
    return keys;
  }
}
