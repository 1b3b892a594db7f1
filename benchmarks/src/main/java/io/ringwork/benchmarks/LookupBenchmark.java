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
 * 36-character UUID keys so that cache misses are real. The partitioned rings use P = 65,536;
 * guava-jump and jumpback hash the key with the same XXH3-64 as ours first.
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

  private static final int KEYS = 1 << 20;

  @Param({"balanced", "rendezvous", "tooz", "guava-jump", "ketama-160", "jumpback"})
  public String ring;

  @Param({"10", "100", "1000", "10000"})
  public int members;

  private KeyRing keyRing;
  private String[] keys;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    List<Member> list = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      list.add(Member.of("member-" + i));
    }
    keyRing = KeyRing.create(ring, list, 65_536);
    Random random = new Random(42);
    keys = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = new UUID(random.nextLong(), random.nextLong()).toString();
    }
  }

  @Benchmark
  public String lookup() {
    return keyRing.owner(keys[next++ & (KEYS - 1)]);
  }
}
