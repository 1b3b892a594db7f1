package io.ringwork.rebalancer;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.ring.Member;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * A group of N rebalancers in one JVM against one ZooKeeper server, with the server's packet
 * counter read through the {@code mntr} four-letter word: what the benchmarks' {@code
 * ScaleScenario} reports and {@code ScaleTest} bounds.
 */
public final class Scale implements AutoCloseable {

  /** Server-side counts between two {@code mntr} reads. */
  public record Traffic(long packetsSent, long packetsReceived) {}

  /** One measured change. */
  public record Change(long packetsSent, long packetsReceived, long nanos) {}

  private final TestingServer server;
  private final String strategy;
  private final int partitions;
  private final Duration session;
  private final List<Rebalancer> workers = new ArrayList<>();
  private int next;

  public Scale(TestingServer server, String strategy, int partitions, Duration session) {
    this.server = server;
    this.strategy = strategy;
    this.partitions = partitions;
    this.session = session;
  }

  /** Starts a server that answers {@code mntr}. */
  public static TestingServer server() throws Exception {
    System.setProperty("zookeeper.4lw.commands.whitelist", "mntr,ruok,srvr");
    // All members connect from 127.0.0.1: lift the default limit of 60 connections per address.
    // A 200 ms tick, because sessions expire on tick boundaries (up to a tick late), with the
    // session timeout limit raised to match.
    return new TestingServer(
        new InstanceSpec(
            null, -1, -1, -1, true, -1, 200, 5000, Map.of("maxSessionTimeout", "60000"), null),
        true);
  }

  public List<Rebalancer> workers() {
    return workers;
  }

  public Rebalancer start(String id) {
    RebalancerBuilder b =
        Rebalancer.newBuilder()
            .group("scale")
            .member(Member.of(id))
            .connectString(server.getConnectString())
            .sessionTimeout(session)
            .strategy(strategy)
            .settleDelay(Duration.ofMillis(100))
            .revokeDeadline(Duration.ofSeconds(5))
            .metrics(new MetricRegistry());
    if (strategy.equals("tooz")) {
      b.toozPoints(partitions);
    } else {
      b.partitions(partitions);
    }
    Rebalancer r = b.build();
    r.start();
    return r;
  }

  /** Starts n workers at once (on a few threads) and returns the time until all are stable. */
  public long startAll(int n, Duration timeout) throws Exception {
    long t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<Rebalancer>> started = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String id = String.format("w%05d", next++);
        started.add(pool.submit(() -> start(id)));
      }
      for (Future<Rebalancer> f : started) {
        workers.add(f.get());
      }
    } finally {
      pool.shutdown();
    }
    awaitAllStable(timeout);
    return System.nanoTime() - t0;
  }

  /** One more worker joins; measures until every worker is stable. */
  public Change join(Duration timeout) throws Exception {
    Traffic before = traffic();
    long t0 = System.nanoTime();
    workers.add(start(String.format("w%05d", next++)));
    awaitAllStable(timeout);
    long nanos = System.nanoTime() - t0;
    Traffic after = traffic();
    return new Change(
        after.packetsSent() - before.packetsSent(),
        after.packetsReceived() - before.packetsReceived(),
        nanos);
  }

  /** The newest worker leaves gracefully; measures until every other worker is stable. */
  public Change leave(Duration timeout) throws Exception {
    Traffic before = traffic();
    long t0 = System.nanoTime();
    Rebalancer leaving = workers.remove(workers.size() - 1);
    leaving.close();
    awaitAllStable(timeout);
    long nanos = System.nanoTime() - t0;
    Traffic after = traffic();
    return new Change(
        after.packetsSent() - before.packetsSent(),
        after.packetsReceived() - before.packetsReceived(),
        nanos);
  }

  /**
   * A worker in its own JVM joins, then is killed with SIGKILL: the time until its partitions are
   * active on the others (its session must expire first).
   */
  public long killNine(Duration timeout) throws Exception {
    Process child =
        WorkerMain.spawn(
            server.getConnectString(), "scale", "victim", partitions, session.toMillis(), strategy);
    WorkerMain.awaitReady(child);
    awaitAllStable(timeout);
    io.ringwork.ring.Assignment table = workers.get(0).assignment().orElseThrow();
    java.util.Set<Integer> held = new java.util.HashSet<>();
    for (int p : table.partitionsOf("victim")) {
      held.add(p);
    }
    if (held.isEmpty()) {
      throw new IllegalStateException("the victim holds nothing");
    }
    long t0 = System.nanoTime();
    child.destroyForcibly();
    child.waitFor();
    long deadline = t0 + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      java.util.Set<Integer> active = new java.util.HashSet<>();
      for (Rebalancer r : workers) {
        active.addAll(r.ownedPartitions());
      }
      if (active.containsAll(held)) {
        return System.nanoTime() - t0;
      }
      Thread.sleep(5); // a measurement loop, not a test wait
    }
    throw new IllegalStateException("partitions of the killed worker not active in " + timeout);
  }

  public void awaitAllStable(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Rebalancer r : workers) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !r.awaitStable(Duration.ofNanos(Math.max(1, left)))) {
        StringBuilder why = new StringBuilder(r.memberId() + " not stable within " + timeout);
        for (Rebalancer w : workers) {
          if (w.sessionForTest().isLeader() || w == r) {
            why.append('\n').append(w.describeForTest());
          }
        }
        throw new IllegalStateException(why.toString());
      }
    }
  }

  /**
   * Packets the server sends per second while nothing changes: session pings and lease renewals (a
   * {@code sync} every T/5 per member), which run during a change as well.
   */
  public double idlePacketsPerSecond(Duration window) throws Exception {
    Traffic before = traffic();
    long t0 = System.nanoTime();
    Thread.sleep(window.toMillis()); // a measurement window, not a test wait
    Traffic after = traffic();
    return (after.packetsSent() - before.packetsSent()) / ((System.nanoTime() - t0) / 1e9);
  }

  public Traffic traffic() throws Exception {
    long sent = -1;
    long received = -1;
    try (Socket s = new Socket("127.0.0.1", server.getPort())) {
      OutputStream out = s.getOutputStream();
      out.write("mntr".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String[] kv = line.split("\t");
        if (kv.length == 2 && kv[0].equals("zk_packets_sent")) {
          sent = Long.parseLong(kv[1].trim());
        } else if (kv.length == 2 && kv[0].equals("zk_packets_received")) {
          received = Long.parseLong(kv[1].trim());
        }
      }
    }
    if (sent < 0 || received < 0) {
      throw new IllegalStateException("mntr gave no packet counts");
    }
    return new Traffic(sent, received);
  }

  @Override
  public void close() {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    for (Rebalancer r : workers) {
      pool.execute(r::close);
    }
    pool.shutdown();
    try {
      pool.awaitTermination(2, java.util.concurrent.TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    workers.clear();
  }
}
