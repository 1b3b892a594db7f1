package io.ringwork.benchmarks;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.LockMode;
import io.ringwork.membership.EmbeddedZooKeeper;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The partition owner's fast path: {@code rebalancer.guard(key)} opened and closed on keys it owns
 * and nobody else locks (no ZooKeeper request; {@code GuardTest} counts them), next to {@code
 * rebalancer.grant(key)}, the plain ownership check it adds to. 1,024 precomputed keys, one member
 * owning all 4,096 partitions.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar GuardBenchmark -f 1 -wi 3 -w 1s -i 5 -r
 * 1s -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Dzookeeper.forceSync=no"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GuardBenchmark {

  private EmbeddedZooKeeper zk;
  private Rebalancer owner;
  private final String[] keys = new String[1024];
  private int i;

  @Setup(Level.Trial)
  public void start() throws Exception {
    zk = EmbeddedZooKeeper.start(null);
    owner =
        Rebalancer.newBuilder()
            .group("guarded")
            .member(Member.of("owner"))
            .connectString(zk.connectString())
            .partitions(4096)
            .metrics(new MetricRegistry())
            .build();
    owner.start();
    if (!owner.awaitStable(Duration.ofSeconds(60))) {
      throw new IllegalStateException("the owner did not become stable");
    }
    for (int k = 0; k < keys.length; k++) {
      keys[k] = "node-" + k;
      try (KeyGuard g = owner.guard(keys[k], LockMode.EXCLUSIVE)) {
        if (!g.fastPath()) {
          throw new IllegalStateException("no fast path for " + keys[k]);
        }
      }
    }
  }

  @TearDown(Level.Trial)
  public void stop() {
    owner.close();
    zk.close();
  }

  @Benchmark
  public long guard() throws Exception {
    String key = keys[i++ & 1023];
    try (KeyGuard g = owner.guard(key, LockMode.EXCLUSIVE)) {
      return g.token();
    }
  }

  @Benchmark
  public long grant() {
    String key = keys[i++ & 1023];
    return owner.grant(key).map(g -> g.token()).orElse(0L);
  }
}
