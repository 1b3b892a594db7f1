package io.ringwork.benchmarks;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.benchmarks.peers.CuratorKeyLock;
import io.ringwork.benchmarks.peers.KeyLock;
import io.ringwork.benchmarks.peers.RingworkKeyLock;
import io.ringwork.lock.KeyGuard;
import io.ringwork.lock.LockMode;
import io.ringwork.membership.EmbeddedZooKeeper;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.ring.Partitioner;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-key exclusive locks against an embedded ZooKeeper (no fsync, as the research probes ran):
 * Ringwork's {@code KeyLocks} in a group without workers ({@code ringwork}: the queue protocol
 * alone), Ringwork's {@code KeyLocks} on keys whose partition has a live owner ({@code
 * ringwork-owned}: the lock also waits for the owner's yield, one notification and one write), the
 * same with an owner that is busy on the key's stripe ({@code ringwork-owned-busy}: a thread of the
 * owner holds fast guards on another key of the same fast-path stripe half of the time, 50 µs each,
 * so the yield has to wait for a guard in flight to close), and Curator's {@code InterProcessMutex}
 * ({@code curator}). Every client has its own session.
 *
 * <ul>
 *   <li>{@code cycle}: one client acquires and releases one key (sample time: p50, p99);
 *   <li>{@code distinctKeys}: 16 clients, each its own key (throughput);
 *   <li>{@code hotKey}: 16 clients on one key, so every acquisition is a handoff (throughput).
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar LockBenchmark -f 1 -wi 2 -w 2s -i 4 -r
 * 3s}
 */
@Fork(
    value = 1,
    jvmArgsAppend = {"-Dzookeeper.forceSync=no", "-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 3)
public class LockBenchmark {

  /** The server, and a member that owns every partition of the group "owned". */
  @State(Scope.Benchmark)
  public static class Server {
    EmbeddedZooKeeper zk;
    Rebalancer owner;
    final AtomicInteger clients = new AtomicInteger();

    @Setup(Level.Trial)
    public void start() throws Exception {
      zk = EmbeddedZooKeeper.start(null);
      owner =
          Rebalancer.newBuilder()
              .group("owned")
              .member(Member.of("owner"))
              .connectString(zk.connectString())
              .partitions(256)
              .metrics(new MetricRegistry())
              .build();
      owner.start();
      if (!owner.awaitStable(Duration.ofSeconds(30))) {
        throw new IllegalStateException("the owner did not become stable");
      }
    }

    @TearDown(Level.Trial)
    public void stop() {
      owner.close();
      zk.close();
    }
  }

  /** One client, with its own session. */
  @State(Scope.Thread)
  public static class Client {
    @Param({"ringwork", "ringwork-owned", "ringwork-owned-busy", "curator"})
    public String peer;

    KeyLock lock;
    String ownKey;
    Thread busy;
    volatile boolean stop;

    @Setup(Level.Trial)
    public void open(Server server) throws Exception {
      int n = server.clients.incrementAndGet();
      ownKey = "volume-" + n;
      lock =
          switch (peer) {
            case "ringwork" -> new RingworkKeyLock(server.zk.connectString(), "plain", "c" + n);
            case "ringwork-owned", "ringwork-owned-busy" ->
                new RingworkKeyLock(server.zk.connectString(), "owned", "c" + n);
            case "curator" -> new CuratorKeyLock(server.zk.connectString());
            default -> throw new IllegalArgumentException("unknown peer " + peer);
          };
      if (peer.equals("ringwork-owned-busy")) {
        startBusyOwner(server.owner);
      }
    }

    @TearDown(Level.Trial)
    public void close() throws InterruptedException {
      stop = true;
      if (busy != null) {
        busy.join();
      }
      lock.close();
    }

    /**
     * Starts the owner's busy thread: fast guards on a key of the same stripe as {@code solo}
     * ({@code PartitionGuards} counts guards in flight in 4,096 stripes of the key's hash), held 50
     * µs with 50 µs between them.
     */
    void startBusyOwner(Rebalancer owner) {
      int stripe = (int) Partitioner.hash("solo") & 4095;
      String key = null;
      for (int i = 0; key == null; i++) {
        if (((int) Partitioner.hash("busy-" + i) & 4095) == stripe) {
          key = "busy-" + i;
        }
      }
      String busyKey = key;
      busy =
          DaemonThreads.start(
              "busy-owner",
              () -> {
                while (!stop) {
                  try (KeyGuard g = owner.guard(busyKey, LockMode.EXCLUSIVE)) {
                    LockSupport.parkNanos(50_000);
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                  LockSupport.parkNanos(50_000);
                }
              });
    }
  }

  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Threads(1)
  public long cycle(Client c) throws Exception {
    long token = c.lock.acquire("solo");
    c.lock.release("solo");
    return token;
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(16)
  public long distinctKeys(Client c) throws Exception {
    long token = c.lock.acquire(c.ownKey);
    c.lock.release(c.ownKey);
    return token;
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(16)
  public long hotKey(Client c) throws Exception {
    long token = c.lock.acquire("hot");
    c.lock.release("hot");
    return token;
  }
}
