package io.ringwork.benchmarks.scale;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerBuilder;
import io.ringwork.ring.Member;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One process of the {@link ScaleHarness}: a share of the group's members in this JVM, driven by
 * one-line commands on standard input, one reply line each on standard output.
 *
 * <pre>
 *   start COUNT            start COUNT members at once          -> started
 *   join                   start one more member                -> joined ID
 *   leave                  close the newest joined member       -> left ID
 *   await MEMBERS MILLIS   every member here stable on a table
 *                          of exactly MEMBERS members           -> stable | timeout WHY
 *   quit                   close every member and exit          -> bye
 * </pre>
 *
 * <p>Arguments: {@code CONNECT GROUP STRATEGY PARTITIONS SESSION_MS SETTLE_MS START_THREADS
 * ID_PREFIX}. Each reply line starts with {@value #REPLY}, because the JVM itself may write to
 * standard output (JFR's startup line).
 */
public final class ScaleNode {

  static final String REPLY = ">> ";

  private final String connect;
  private final String group;
  private final String strategy;
  private final int partitions;
  private final Duration session;
  private final Duration settle;
  private final int startThreads;
  private final String prefix;
  private final List<Rebalancer> members = new ArrayList<>();
  private final List<Rebalancer> joined = new ArrayList<>();
  private int next;

  private ScaleNode(String[] args) {
    connect = args[0];
    group = args[1];
    strategy = args[2];
    partitions = Integer.parseInt(args[3]);
    session = Duration.ofMillis(Long.parseLong(args[4]));
    settle = Duration.ofMillis(Long.parseLong(args[5]));
    startThreads = Integer.parseInt(args[6]);
    prefix = args[7];
  }

  /** Runs the node until {@code quit} or the end of its input. */
  public static void main(String[] args) throws Exception {
    if (args.length != 8) {
      System.err.println(
          "usage: ScaleNode CONNECT GROUP STRATEGY PARTITIONS SESSION_MS SETTLE_MS START_THREADS"
              + " ID_PREFIX");
      System.exit(2);
    }
    PrintStream out = new Replies(System.out);
    new ScaleNode(args)
        .serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out);
    System.exit(0); // the JFR recording (if any) is dumped on exit
  }

  private void serve(BufferedReader in, PrintStream out) throws Exception {
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] cmd = line.trim().split(" ");
      switch (cmd[0]) {
        case "start" -> {
          startAll(Integer.parseInt(cmd[1]));
          out.println("started");
        }
        case "join" -> {
          Rebalancer r = start(nextId());
          members.add(r);
          joined.add(r);
          out.println("joined " + r.memberId());
        }
        case "leave" -> {
          Rebalancer r = joined.remove(joined.size() - 1);
          members.remove(r);
          r.close();
          out.println("left " + r.memberId());
        }
        case "await" -> out.println(await(Integer.parseInt(cmd[1]), Long.parseLong(cmd[2])));
        case "quit" -> {
          closeAll();
          out.println("bye");
          return;
        }
        default -> out.println("error unknown command: " + line);
      }
    }
    closeAll();
  }

  private String nextId() {
    return String.format("%s-%05d", prefix, next++);
  }

  private Rebalancer start(String id) {
    RebalancerBuilder b =
        Rebalancer.newBuilder()
            .group(group)
            .member(Member.of(id))
            .connectString(connect)
            .sessionTimeout(session)
            .strategy(strategy)
            .settleDelay(settle)
            .revokeDeadline(Duration.ofSeconds(5))
            .metrics(new MetricRegistry());
    b.partitions(partitions);
    Rebalancer r = b.build();
    r.start();
    return r;
  }

  private void startAll(int count) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(startThreads);
    try {
      List<Future<Rebalancer>> started = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String id = nextId();
        started.add(pool.submit(() -> start(id)));
      }
      for (Future<Rebalancer> f : started) {
        members.add(f.get());
      }
    } finally {
      pool.shutdown();
    }
  }

  /**
   * Stable on the expected table: each member here reports stable and its table has {@code
   * expected} members. Checking the size as well keeps a member that has not yet seen the change
   * (and is still stable on the old table) from counting.
   */
  private String await(int expected, long millis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    for (Rebalancer r : members) {
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          int seen = r.assignment().map(a -> a.members().size()).orElse(0);
          return "timeout " + r.memberId() + " state " + r.state() + " table of " + seen;
        }
        if (r.awaitStable(Duration.ofNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50))))
            && r.assignment().map(a -> a.members().size() == expected).orElse(false)) {
          break;
        }
        Thread.sleep(2); // the member is stable on an older table; the change is still on its way
      }
    }
    return "stable";
  }

  private void closeAll() throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    for (Rebalancer r : members) {
      pool.execute(r::close);
    }
    pool.shutdown();
    // Within the harness's wait for this JVM (5 minutes): past it, the closes left are counted.
    if (!pool.awaitTermination(270, TimeUnit.SECONDS)) {
      System.err.printf("%d members still closing after 270 s%n", pool.shutdownNow().size());
    }
    members.clear();
  }

  /** Standard output with every line marked as a reply. */
  private static final class Replies extends PrintStream {
    Replies(java.io.OutputStream out) {
      super(out, true, StandardCharsets.UTF_8);
    }

    @Override
    public void println(String line) {
      super.println(REPLY + line);
    }
  }
}
