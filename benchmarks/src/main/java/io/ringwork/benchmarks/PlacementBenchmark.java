package io.ringwork.benchmarks;

import io.ringwork.benchmarks.peers.PlacementCase;
import io.ringwork.benchmarks.peers.Placer;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.BalancedPlacement;
import io.ringwork.ring.Member;
import io.ringwork.ring.Placement;
import io.ringwork.ring.RendezvousPlacement;
import io.ringwork.ring.Strategy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
 * timed. Our {@code balanced} starts from an {@link io.ringwork.ring.Assignment} read back with
 * {@code fromTable}; its per-member partition lists are built on the first call (in warmup) and
 * reused, as a leader's previous step hands them to the next. {@link #rendezvousFull} times our
 * stateless {@code rendezvous} from nothing, O(P * N), and {@link #rendezvousStep} its step after
 * one join ({@code incremental}: only the partitions the joiner can win are recomputed) against the
 * full recomputation of the same table ({@code full}), in one run.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PlacementBenchmark.place -f 1 -wi 3 -w
 * 1s -i 5 -r 1s} and {@code java -jar benchmarks/target/benchmarks.jar
 * PlacementBenchmark.rendezvousFull -f 1 -wi 1 -i 3}; {@code -p size=1000x65536} picks a size. The
 * fork gets an 8 GB heap for the Kafka inputs at the largest size. The rendezvous step: {@code java
 * -jar benchmarks/target/benchmarks.jar PlacementBenchmark.rendezvousStep -f 1 -wi 3 -w 1s -i 5 -r
 * 1s}. {@link #balancedStep} times our balanced step given as a change ({@code
 * BalancedPlacement.step}) against the same step given the whole member list: {@code java -jar
 * benchmarks/target/benchmarks.jar PlacementBenchmark.balancedStep -f 1 -wi 3 -i 5}.
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

  /** Rendezvous after one join: the previous table of N members, and the N + 1 members after. */
  @State(Scope.Benchmark)
  public static class RendezvousStepInput {

    @Param({"1000x4096", "1000x65536"})
    public String size;

    @Param({"incremental", "full"})
    public String mode;

    RendezvousPlacement placement;
    Assignment previous;
    List<Member> after;

    /** Computes the table before the join. */
    @Setup(Level.Trial)
    public void setUp() {
      String[] nxp = size.split("x");
      int n = Integer.parseInt(nxp[0]);
      placement =
          (RendezvousPlacement)
              Placement.newBuilder()
                  .strategy(Strategy.RENDEZVOUS)
                  .partitions(Integer.parseInt(nxp[1]))
                  .build();
      List<Member> before = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        before.add(Member.of(String.format("member-%06d", i)));
      }
      previous = placement.assign(null, before);
      after = new ArrayList<>(before);
      after.add(Member.of("joiner-0"));
    }
  }

  /**
   * Our balanced step after a change, given as the change ({@code change}: {@link
   * BalancedPlacement#step}, the joined members and the ids that left) or as the whole member list
   * after it ({@code list}: {@link BalancedPlacement#assign}), from the same previous assignment.
   */
  @State(Scope.Benchmark)
  public static class BalancedChangeInput {

    @Param({"1000x65536", "10000x1048576"})
    public String size;

    @Param({"join", "leave", "churn10"})
    public String op;

    @Param({"change", "list"})
    public String api;

    BalancedPlacement placement;
    Assignment previous;
    List<Member> after;
    List<Member> joined;
    List<String> left;

    /** Computes the table before the change, and the change. */
    @Setup(Level.Trial)
    public void setUp() {
      PlacementCase c = caseOf(size, op);
      placement =
          (BalancedPlacement) Placement.newBuilder().partitions(c.partitions()).buildPartitioned();
      previous = placement.assign(null, c.before());
      after = c.after();
      Set<String> beforeIds = new HashSet<>();
      c.before().forEach(m -> beforeIds.add(m.id()));
      Set<String> afterIds = new HashSet<>();
      after.forEach(m -> afterIds.add(m.id()));
      joined = after.stream().filter(m -> !beforeIds.contains(m.id())).toList();
      left = beforeIds.stream().filter(id -> !afterIds.contains(id)).sorted().toList();
      // The per-member partition lists are built once here, as a leader's previous step hands
      // them to the next, rather than in the first timed call.
      placement.assign(previous, after);
    }
  }

  /** Computes our balanced step after a change, from the change or from the member list. */
  @Benchmark
  public Object balancedStep(BalancedChangeInput in) {
    return in.api.equals("change")
        ? in.placement.step(in.previous, in.joined, in.left)
        : in.placement.assign(in.previous, in.after);
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

  /** Computes rendezvous's table after one join, from the previous one or in full. */
  @Benchmark
  public Object rendezvousStep(RendezvousStepInput in) {
    return in.mode.equals("incremental")
        ? in.placement.assign(in.previous, in.after)
        : in.placement.recompute(in.previous, in.after);
  }

  static PlacementCase caseOf(String size, String op) {
    String[] nxp = size.split("x");
    return PlacementCase.of(Integer.parseInt(nxp[0]), Integer.parseInt(nxp[1]), op);
  }
}
