package io.ringwork.simulator.demo;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.simulator.cli.RuntimeFailure;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;

/**
 * {@code ringwork demo --standby-warmup D}: what a warm standby saves at a handoff, measured. A
 * partition's owner may write only after its warm-up (a simulated cache load of {@code D}); a
 * standby ({@link OwnershipListener#onStandby}) pays it ahead, read-only, and keeps it when it is
 * promoted. Four workers with their own sessions share {@value #PARTITIONS} partitions, once with
 * one replica (every new owner is cold) and once with two (the balanced placement promotes the
 * departed owner's standby where it has room); in each of {@code rounds} rounds one worker drains
 * and a replacement joins. For each partition the drained worker owned, the handoff-to-first-write
 * is the time from the start of the drain to the new owner's first fenced write, which the ledger
 * (a highest-token-per-partition table) accepted.
 */
final class StandbyTrial {

  static final int PARTITIONS = 64;
  private static final int WORKERS = 4;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String connect;
  private final int sessionMs;
  private final long warmupNanos;
  private final int rounds;
  private final PrintWriter err;
  private final Map<Integer, Long> ledger = new ConcurrentHashMap<>();
  private final AtomicLong staleRejected = new AtomicLong();
  private final List<Long> cold = Collections.synchronizedList(new ArrayList<>());
  private final List<Long> warm = Collections.synchronizedList(new ArrayList<>());
  private final List<Long> coldWithStandbys = Collections.synchronizedList(new ArrayList<>());
  private int nextId;

  StandbyTrial(String connect, int sessionMs, Duration warmup, int rounds, PrintWriter err) {
    this.connect = connect;
    this.sessionMs = sessionMs;
    this.warmupNanos = warmup.toNanos();
    this.rounds = rounds;
    this.err = err;
  }

  /** Runs both groups and returns the report's {@code standby} object. */
  ObjectNode run() throws Exception {
    runGroup(1);
    runGroup(2);
    ObjectNode r = JSON.createObjectNode();
    r.put("warmupMillis", TimeUnit.NANOSECONDS.toMillis(warmupNanos));
    r.put("partitions", PARTITIONS);
    r.put("workers", WORKERS);
    r.put("rounds", rounds);
    ObjectNode h = r.putObject("handoffToFirstWriteMillis");
    stats(h.putObject("coldOwner"), cold);
    stats(h.putObject("standby"), warm);
    stats(h.putObject("coldOwnerWithStandbys"), coldWithStandbys);
    r.put("staleWritesRejected", staleRejected.get());
    return r;
  }

  private static void stats(ObjectNode o, List<Long> nanos) {
    List<Long> sorted;
    synchronized (nanos) {
      sorted = new ArrayList<>(nanos);
    }
    Collections.sort(sorted);
    o.put("count", sorted.size());
    if (!sorted.isEmpty()) {
      o.put("p50", millis(sorted.get((sorted.size() - 1) / 2)));
      o.put("p90", millis(sorted.get(Math.min(sorted.size() - 1, sorted.size() * 9 / 10))));
    }
  }

  private static double millis(long nanos) {
    return Math.round(nanos / 1e5) / 10.0;
  }

  private void runGroup(int replicas) throws Exception {
    String group = "demo-standby-r" + replicas;
    List<Worker> live = new ArrayList<>();
    try {
      for (int i = 0; i < WORKERS; i++) {
        live.add(new Worker(group, replicas));
      }
      settle(live);
      for (int round = 0; round < rounds; round++) {
        Worker leaving = live.remove(round % live.size());
        Set<Integer> moving = leaving.ownedNow();
        long t0 = System.nanoTime();
        leaving.drain();
        awaitOrFail(
            () -> moving.stream().allMatch(p -> newOwner(live, p, t0) != null),
            "the partitions of " + leaving.id + " written by their new owners");
        for (int p : moving) {
          Worker w = newOwner(live, p, t0);
          long sample = w.firstWrite.get(p) - t0;
          if (replicas == 1) {
            cold.add(sample);
          } else if (w.warmAtGrant.getOrDefault(p, false)) {
            warm.add(sample);
          } else {
            coldWithStandbys.add(sample);
          }
        }
        err.printf(
            "standby trial: replicas %d, round %d: %s drained, %d partitions moved%n",
            replicas, round + 1, leaving.id, moving.size());
        err.flush();
        live.add(new Worker(group, replicas));
        settle(live);
      }
    } finally {
      for (Worker w : live) {
        w.close();
      }
    }
  }

  /** The live worker that wrote {@code p} first after {@code t0}, or null. */
  private static Worker newOwner(List<Worker> live, int p, long t0) {
    for (Worker w : live) {
      Long at = w.firstWrite.get(p);
      if (at != null && at - t0 > 0) {
        return w;
      }
    }
    return null;
  }

  /** Waits until the group is stable and every worker has warmed what it owns and stands by. */
  private void settle(List<Worker> live) throws Exception {
    for (Worker w : live) {
      if (!w.rebalancer.awaitStable(Duration.ofSeconds(30))) {
        throw new RuntimeFailure("standby trial: " + w.id + " did not become stable in 30 s");
      }
    }
    awaitOrFail(() -> live.stream().allMatch(Worker::warmed), "every worker warmed");
  }

  private static void awaitOrFail(BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new RuntimeFailure("standby trial: not done within 30 s: " + what);
      }
      Thread.sleep(5);
    }
  }

  /** One worker: its own session, a listener that warms partitions, and a writer thread. */
  private final class Worker implements OwnershipListener {
    final String id;
    final CuratorFramework client;
    final Rebalancer rebalancer;
    final Thread writer;
    volatile boolean running = true;

    /** When each partition it owns or stands by for is warm (nanoTime). */
    final Map<Integer, Long> readyAt = new ConcurrentHashMap<>();

    /** The token of each partition it owns, per its callbacks. */
    final Map<Integer, Long> owned = new ConcurrentHashMap<>();

    /** Whether each partition was warm (or warming) when it was granted. */
    final Map<Integer, Boolean> warmAtGrant = new ConcurrentHashMap<>();

    /** The first accepted write of each partition since it was granted (nanoTime). */
    final Map<Integer, Long> firstWrite = new ConcurrentHashMap<>();

    Worker(String group, int replicas) throws InterruptedException {
      id = "s" + (++nextId);
      client = DemoGroup.workerClient(connect, sessionMs);
      rebalancer =
          Rebalancer.newBuilder()
              .group(group)
              .member(Member.of(id, 1, "z" + (nextId % WORKERS)))
              .curator(client)
              .partitions(PARTITIONS)
              .replicas(replicas)
              .settleDelay(Duration.ofMillis(100))
              .revokeDeadline(Duration.ofSeconds(2))
              .metrics(new MetricRegistry())
              .listener(this)
              .build();
      rebalancer.start();
      writer = DaemonThreads.start("demo-standby-" + id, this::write);
    }

    @Override
    public void onStandby(Set<Integer> partitions) {
      long now = System.nanoTime();
      partitions.forEach(p -> readyAt.putIfAbsent(p, now + warmupNanos)); // prefetch, read-only
    }

    @Override
    public void onStandbyRevoked(Set<Integer> partitions) {
      for (int p : partitions) {
        // Promoted: the assignment in force names it primary and onAssigned follows; keep it.
        boolean promoted =
            rebalancer.assignment().map(a -> a.primary(p).id().equals(id)).orElse(false);
        if (!promoted) {
          readyAt.remove(p);
        }
      }
    }

    @Override
    public void onAssigned(List<Grant> grants) {
      long now = System.nanoTime();
      for (Grant g : grants) {
        warmAtGrant.put(g.partition(), readyAt.containsKey(g.partition()));
        readyAt.putIfAbsent(g.partition(), now + warmupNanos); // a cold owner warms up now
        firstWrite.remove(g.partition());
        owned.put(g.partition(), g.token());
      }
    }

    @Override
    public void onRevoked(Set<Integer> partitions) {
      drop(partitions);
    }

    @Override
    public void onLost(Set<Integer> partitions) {
      drop(partitions);
    }

    private void drop(Set<Integer> partitions) {
      for (int p : partitions) {
        owned.remove(p);
        readyAt.remove(p);
      }
    }

    Set<Integer> ownedNow() {
      return new TreeSet<>(rebalancer.ownedPartitions());
    }

    boolean warmed() {
      long now = System.nanoTime();
      for (int p : rebalancer.standbyPartitions()) {
        Long at = readyAt.get(p);
        if (at == null || at - now > 0) {
          return false;
        }
      }
      return owned.keySet().stream().allMatch(firstWrite::containsKey);
    }

    /** Writes each owned partition once it is warm, fenced by its grant's token. */
    private void write() {
      while (running) {
        long now = System.nanoTime();
        for (Map.Entry<Integer, Long> e : owned.entrySet()) {
          int p = e.getKey();
          Long ready = readyAt.get(p);
          if (firstWrite.containsKey(p) || ready == null || ready - now > 0) {
            continue;
          }
          long token = rebalancer.grant(p).map(Grant::token).orElse(0L);
          if (token == 0 || token != e.getValue()) {
            continue;
          }
          boolean accepted = ledger.merge(p, token, Math::max) == token;
          if (accepted) {
            firstWrite.put(p, System.nanoTime());
          } else {
            staleRejected.incrementAndGet();
          }
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException ex) {
          return;
        }
      }
    }

    void drain() throws InterruptedException {
      rebalancer.drain(Duration.ofSeconds(10));
      close();
    }

    void close() {
      running = false;
      writer.interrupt();
      rebalancer.close();
      client.close();
    }
  }
}
