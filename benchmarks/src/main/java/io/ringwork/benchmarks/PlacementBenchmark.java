package io.ringwork.benchmarks;

import io.ringwork.benchmarks.peers.PlacementCase;
import io.ringwork.benchmarks.peers.Placer;
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
 * Computing an assignment of P partitions to N members: from nothing ({@code full}), and
 * incrementally after one join, one leave, or 10 joins and 10 leaves at once ({@code churn10}),
 * starting from the same exactly balanced table for every peer. Inputs are converted to each peer's
 * form in setup; only the computation is timed.
 *
 * <p>Run: {@code java -Xmx8g -jar benchmarks/target/benchmarks.jar PlacementBenchmark -f 1 -wi 3 -i
 * 5 -p placer=balanced,kafka-uniform,kafka-cooperative-sticky}, and rendezvous, which is O(P * N)
 * and stateless, with {@code -p placer=rendezvous -p op=full -p size=100x4096,1000x65536}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx8g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PlacementBenchmark {

  @Param({"100x4096", "1000x65536", "10000x1048576"})
  public String size;

  @Param({"full", "join", "leave", "churn10"})
  public String op;

  @Param({"balanced", "rendezvous", "kafka-uniform", "kafka-cooperative-sticky"})
  public String placer;

  private Placer peer;
  private Object input;

  @Setup(Level.Trial)
  public void setUp() {
    String[] nxp = size.split("x");
    PlacementCase c = PlacementCase.of(Integer.parseInt(nxp[0]), Integer.parseInt(nxp[1]), op);
    peer = Placer.create(placer);
    input = peer.prepare(c);
  }

  @Benchmark
  public Object place() {
    return peer.compute(input);
  }
}
