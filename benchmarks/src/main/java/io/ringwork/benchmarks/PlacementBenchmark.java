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
 * Computing an assignment of P partitions to N members, for N x P in 100 x 4,096, 1,000 x 65,536
 * and 10,000 x 1,048,576.
 *
 * <p>{@link #place} times the sticky placers ({@code balanced}, Kafka's server-side {@code
 * UniformAssignor} and its client-side {@code CooperativeStickyAssignor}) on four operations: from
 * nothing ({@code full}), and from a previous table after one join ({@code join}), one leave
 * ({@code leave}), or 10 joins and 10 leaves at once ({@code churn10}). Every peer starts from the
 * same exactly balanced table, converted to its own input form in setup; only the computation is
 * timed. {@link #rendezvousFull} times our stateless {@code rendezvous}, which has no previous
 * table and so only a full computation, O(P * N).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PlacementBenchmark.place -f 1 -wi 3 -w
 * 1s -i 5 -r 1s} and {@code java -jar benchmarks/target/benchmarks.jar
 * PlacementBenchmark.rendezvousFull -f 1 -wi 1 -i 3}; {@code -p size=1000x65536} picks a size. The
 * fork gets an 8 GB heap for the Kafka inputs at the largest size.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx8g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PlacementBenchmark {

  /** A sticky placer's input for one size and operation. */
  @State(Scope.Benchmark)
  public static class StickyInput {

    @Param({"100x4096", "1000x65536", "10000x1048576"})
    public String size;

    @Param({"full", "join", "leave", "churn10"})
    public String op;

    @Param({"balanced", "kafka-uniform", "kafka-cooperative-sticky"})
    public String placer;

    Placer peer;
    Object input;

    /** Builds the case and converts it to the placer's input. */
    @Setup(Level.Trial)
    public void setUp() {
      peer = Placer.create(placer);
      input = peer.prepare(caseOf(size, op));
    }
  }

  /** Rendezvous's input: the members of one size. */
  @State(Scope.Benchmark)
  public static class RendezvousInput {

    @Param({"100x4096", "1000x65536", "10000x1048576"})
    public String size;

    Placer peer;
    Object input;

    /** Builds the members and converts them to rendezvous's input. */
    @Setup(Level.Trial)
    public void setUp() {
      peer = Placer.create("rendezvous");
      input = peer.prepare(caseOf(size, "full"));
    }
  }

  /** Computes a sticky placer's assignment. */
  @Benchmark
  public Object place(StickyInput in) {
    return in.peer.compute(in.input);
  }

  /** Computes rendezvous's table from nothing. */
  @Benchmark
  public Object rendezvousFull(RendezvousInput in) {
    return in.peer.compute(in.input);
  }

  static PlacementCase caseOf(String size, String op) {
    String[] nxp = size.split("x");
    return PlacementCase.of(Integer.parseInt(nxp[0]), Integer.parseInt(nxp[1]), op);
  }
}
