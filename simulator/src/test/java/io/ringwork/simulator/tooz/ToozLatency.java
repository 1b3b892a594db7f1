package io.ringwork.simulator.tooz;

import com.fasterxml.jackson.databind.JsonNode;
import io.ringwork.lock.LockMode;
import io.ringwork.tooz.ToozLock;
import io.ringwork.tooz.ToozLocks;
import io.ringwork.tooz.ToozPartitioner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * The numbers of the tooz interop (issue 12), measured against real tooz on one ZooKeeper server
 * (curator-test's, no fsync), printed as a table for {@code benchmarks/RESULTS.md}:
 *
 * <ul>
 *   <li>how long a Java member's join takes to appear in a polling Python member's ring, for a poll
 *       interval (it is bounded by the interval: Python sees changes only when it polls);
 *   <li>the lock cycle of two contenders taking turns on one tooz lock (acquire, release, the other
 *       acquires): Java with Java, Java with Python, Python with Python.
 * </ul>
 *
 * <p>Run: {@code mvn -B -q -o -pl simulator test-compile exec:java
 * -Dexec.mainClass=io.ringwork.simulator.tooz.ToozLatency -Dexec.classpathScope=test
 * -Dexec.args="20 500"} (joins per interval, acquisitions per contender).
 */
public final class ToozLatency {

  private ToozLatency() {}

  public static void main(String[] args) throws Exception {
    int joins = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int cycles = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    ToozPeer.requireTooz();
    try (TestingServer server =
        new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 500, -1), true)) {
      String connect = server.getConnectString();
      System.out.println("| measure | p50 | p99 / max | n |");
      System.out.println("| --- | --- | --- | --- |");
      for (int pollMs : List.of(100, 1000)) {
        List<Long> seen = joinVisibility(connect, pollMs, joins);
        System.out.printf(
            "| Java join -> in a Python ring, Python polls every %d ms | %d ms | %d ms | %d |%n",
            pollMs, seen.get((seen.size() - 1) / 2), seen.get(seen.size() - 1), seen.size());
      }
      double jj = javaJava(connect, cycles);
      double jp = javaPython(connect, cycles);
      double pp = pythonPython(connect, cycles);
      System.out.printf("| lock cycle, Java <-> Java (mean) | %.0f us | | %d |%n", jj, 2 * cycles);
      System.out.printf(
          "| lock cycle, Java <-> Python (mean) | %.0f us (%.2fx Java<->Java) | | %d |%n",
          jp, jp / jj, 2 * cycles);
      System.out.printf(
          "| lock cycle, Python <-> Python (mean) | %.0f us (%.2fx Java<->Java) | | %d |%n",
          pp, pp / jj, 2 * cycles);
    }
  }

  private static CuratorFramework client(String connect) throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(10_000)
            .retryPolicy(new ExponentialBackoffRetry(50, 10, 500))
            .build();
    c.start();
    c.blockUntilConnected(10, TimeUnit.SECONDS);
    return c;
  }

  /** Milliseconds from a Java member's start() to the first Python poll that shows it, sorted. */
  private static List<Long> joinVisibility(String connect, int pollMs, int joins) throws Exception {
    List<Long> out = new ArrayList<>();
    String group = "visible-" + pollMs;
    try (ToozPeer py =
            ToozPeer.start(
                "py", connect, "member", "--group", group, "--id", "py-1", "--weight", "1");
        CuratorFramework client = client(connect)) {
      py.await("joined", 30);
      for (int i = 0; i < joins; i++) {
        // The Python member polls on its own schedule: the join lands at a random phase of it.
        long phase = (long) (Math.random() * pollMs);
        long nextPoll = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(phase);
        ToozPartitioner java =
            ToozPartitioner.newBuilder().client(client).group(group).memberId("java-" + i).build();
        long joined = System.nanoTime();
        java.start();
        while (true) {
          long wait = nextPoll - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          py.send("poll");
          JsonNode n = py.await("members", 10);
          nextPoll += TimeUnit.MILLISECONDS.toNanos(pollMs);
          if (n.path("members").has("java-" + i)) {
            out.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joined));
            break;
          }
        }
        java.close();
        py.send("poll");
        py.await("members", 10);
      }
    }
    Collections.sort(out);
    return out;
  }

  private static Callable0 javaContender(String connect, String name, String id, int cycles)
      throws InterruptedException {
    CuratorFramework c = client(connect);
    ToozLocks locks = ToozLocks.newBuilder().client(c).memberId(id).build();
    return () -> {
      try {
        for (int i = 0; i < cycles; i++) {
          ToozLock l = locks.acquire(name, LockMode.EXCLUSIVE, Duration.ofSeconds(30));
          l.release();
        }
      } finally {
        locks.close();
        c.close();
      }
      return null;
    };
  }

  private interface Callable0 extends java.util.concurrent.Callable<Void> {}

  /** Mean microseconds per acquisition of two Java contenders taking turns. */
  private static double javaJava(String connect, int cycles) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Callable0> tasks =
          List.of(
              javaContender(connect, "jj", "java-a", cycles),
              javaContender(connect, "jj", "java-b", cycles));
      long t0 = System.nanoTime();
      List<Future<Void>> fs = new ArrayList<>();
      for (Callable0 t : tasks) {
        fs.add(pool.submit(t));
      }
      for (Future<Void> f : fs) {
        f.get(10, TimeUnit.MINUTES);
      }
      return (System.nanoTime() - t0) / 1000.0 / (2 * cycles);
    } finally {
      pool.shutdown();
    }
  }

  private static ToozPeer pythonContender(String connect, String name, String id, int cycles)
      throws Exception {
    ToozPeer p =
        ToozPeer.start(
            id,
            connect,
            "lock-stress",
            "--name",
            name,
            "--id",
            id,
            "--count",
            Integer.toString(cycles),
            "--hold-ms",
            "0");
    p.await("ready", 30);
    return p;
  }

  /** Mean microseconds per acquisition of a Java and a Python contender taking turns. */
  private static double javaPython(String connect, int cycles) throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Callable0 java = javaContender(connect, "jp", "java-a", cycles);
    try (ToozPeer py = pythonContender(connect, "jp", "py-a", cycles)) {
      long t0 = System.nanoTime();
      Future<Void> f = pool.submit(java);
      JsonNode first = py.collectUntil("done", 600).get(0);
      f.get(10, TimeUnit.MINUTES);
      long start = Math.min(t0, first.path("start").asLong());
      return (System.nanoTime() - start) / 1000.0 / (2 * cycles);
    } finally {
      pool.shutdown();
    }
  }

  /** Mean microseconds per acquisition of two Python contenders taking turns. */
  private static double pythonPython(String connect, int cycles) throws Exception {
    try (ToozPeer a = pythonContender(connect, "pp", "py-a", cycles);
        ToozPeer b = pythonContender(connect, "pp", "py-b", cycles)) {
      List<JsonNode> ea = a.collectUntil("done", 600);
      List<JsonNode> eb = b.collectUntil("done", 600);
      long start = Long.MAX_VALUE;
      long end = 0;
      for (List<JsonNode> events : List.of(ea, eb)) {
        for (JsonNode n : events) {
          if (n.path("event").asText().equals("hold")) {
            start = Math.min(start, n.path("start").asLong());
            end = Math.max(end, n.path("end").asLong());
          }
        }
      }
      return (end - start) / 1000.0 / (2 * cycles - 1);
    }
  }
}
