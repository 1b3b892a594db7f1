package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.test.StrictHistory;
import io.ringwork.test.StrictHistory.Incarnation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;

/**
 * The rebalancer tests' checker: what each member was told it held, checked by {@link
 * StrictHistory} (per incarnation, nothing excused but an overlap after the server ended the
 * earlier holder's session, within the lease bound, with a higher token), plus the order of
 * callbacks a listener relies on.
 *
 * <p>What goes into the strict history:
 *
 * <ul>
 *   <li>every grant in an {@code onAssigned} call, at the time of the call, under the member id and
 *       the session the grant carries ({@link Grant#session()});
 *   <li>for every rebalancer handed to {@link #track}, its {@link Rebalancer#grant(int)} answers,
 *       sampled every few milliseconds from a thread of the history's own: what a member's worker
 *       threads would see. A member that keeps answering after its session could have ended is
 *       caught whatever its callbacks say;
 *   <li>the server-side end of each session, once {@link #watch} has been called: the deletion of
 *       the member's node, seen by a watcher on a client of the test's own.
 * </ul>
 *
 * <p>Callbacks are checked for what a listener relies on, from their brackets: a hold starts when
 * {@code onAssigned} is called and ends when {@code onRevoked} returns, {@code onSuspended} is
 * called, or {@code onLost} is called. A bracket ended by a revocation or a suspension must end
 * before the next holder's {@code onAssigned}, and tokens rise per partition. A bracket ended by
 * {@code onLost} is not compared by its callback time: the member's lease stopped it from acting
 * before the server could expire it (every grant it read is in the strict history), and the
 * callback only reports that afterwards, as late as the member's event thread allows.
 */
public final class History implements AutoCloseable {

  /** One member's hold of one partition, and why it ended ("open" while it lasts). */
  record Hold(String member, int partition, long token, long start, long end, String why) {}

  /** How long after the server ended a session its member may still be seen acting: see below. */
  private static final Duration DEFAULT_LEASE_BOUND = Duration.ofSeconds(1);

  private final StrictHistory strict = StrictHistory.create();
  private final Duration leaseBound;
  private final List<Hold> closed = new ArrayList<>();
  private final Map<String, Map<Integer, long[]>> open = new HashMap<>();
  private final Map<String, Map<Integer, long[]>> paused = new HashMap<>();
  private final List<String> events = new ArrayList<>();
  private final List<Rebalancer> tracked = new CopyOnWriteArrayList<>();
  private final Set<String> crashed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final List<AutoCloseable> watches = new CopyOnWriteArrayList<>();
  private Thread sampler;

  /**
   * A history whose one excuse is bounded by one second: a session that a test ends from outside
   * (an injected expiry, a second handle closing it) cannot be foreseen by the member's lease,
   * which stops it only once its client hears, one round trip later; a second covers that round
   * trip on a loaded two-core machine. A session the server expires after silence excuses nothing
   * in practice: the lease ended before the expiry, so no grant was read after it.
   */
  public History() {
    this(DEFAULT_LEASE_BOUND);
  }

  /** A history with another bound on how long a member may act after its session ended. */
  public History(Duration leaseBound) {
    this.leaseBound = leaseBound;
  }

  /** Returns the strict history this one feeds, for checks of a test's own. */
  public StrictHistory strict() {
    return strict;
  }

  /**
   * Records the end of every member session of {@code group} on the server, as a watcher on {@code
   * client} sees the member nodes go. Without it, no overlap is excused at all.
   */
  public void watch(CuratorFramework client, String group) {
    watches.add(strict.watchSessions(client, "/ringwork/" + group + "/members"));
  }

  /** Samples what {@code r} answers to {@link Rebalancer#grant(int)} until it is closed. */
  public synchronized void track(Rebalancer r) {
    tracked.add(r);
    if (sampler == null) {
      sampler = new Thread(this::sample, "history-sampler");
      sampler.setDaemon(true);
      sampler.start();
    }
  }

  private void sample() {
    long stopAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (System.nanoTime() < stopAt) {
      boolean live = false;
      for (Rebalancer r : tracked) {
        if (crashed.contains(r.memberId()) || r.state() == Rebalancer.State.CLOSED) {
          continue;
        }
        live = true;
        try {
          for (int p : r.ownedPartitions()) {
            long at = System.nanoTime();
            r.grant(p)
                .ifPresent(
                    g ->
                        strict.grantRead(
                            new Incarnation(r.memberId(), g.session()), p, g.token(), at));
          }
        } catch (IllegalStateException notStartedOrClosed) {
          // nothing to read
        }
      }
      if (!live && !tracked.isEmpty()) {
        boolean allClosed =
            tracked.stream()
                .allMatch(
                    r -> crashed.contains(r.memberId()) || r.state() == Rebalancer.State.CLOSED);
        if (allClosed) {
          synchronized (this) {
            sampler = null;
          }
          return;
        }
      }
      try {
        TimeUnit.MILLISECONDS.sleep(3);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Returns a listener that records the holds of one member. */
  public OwnershipListener listenerFor(String member) {
    return new OwnershipListener() {
      @Override
      public void onAssigned(List<Grant> grants) {
        long now = System.nanoTime();
        for (Grant g : grants) {
          strict.grantRead(new Incarnation(member, g.session()), g.partition(), g.token(), now);
        }
        synchronized (History.this) {
          events.add(member + " assigned " + grants.size());
          Map<Integer, long[]> mine = open.computeIfAbsent(member, m -> new HashMap<>());
          for (Grant g : grants) {
            mine.put(g.partition(), new long[] {g.token(), now});
          }
        }
      }

      @Override
      public void onRevoked(Set<Integer> partitions) {
        synchronized (History.this) {
          // Revoked while suspended: it does not come back on resume.
          Map<Integer, long[]> held = paused.get(member);
          if (held != null) {
            partitions.forEach(held::remove);
          }
          end(member, partitions, "revoked");
        }
      }

      @Override
      public void onLost(Set<Integer> partitions) {
        synchronized (History.this) {
          paused.remove(member);
          end(member, partitions, "lost");
        }
      }

      @Override
      public void onSuspended() {
        synchronized (History.this) {
          Map<Integer, long[]> mine = open.getOrDefault(member, new HashMap<>());
          paused.put(member, new HashMap<>(mine));
          end(member, Set.copyOf(mine.keySet()), "suspended");
        }
      }

      @Override
      public void onResumed() {
        long now = System.nanoTime();
        synchronized (History.this) {
          events.add(member + " resumed");
          Map<Integer, long[]> mine = open.computeIfAbsent(member, m -> new HashMap<>());
          paused
              .getOrDefault(member, Map.of())
              .forEach((p, hold) -> mine.put(p, new long[] {hold[0], now}));
          paused.remove(member);
        }
      }
    };
  }

  private synchronized void end(String member, Set<Integer> partitions, String why) {
    long now = System.nanoTime();
    events.add(member + " " + why + " " + partitions.size());
    Map<Integer, long[]> mine = open.get(member);
    if (mine == null) {
      return;
    }
    for (int p : partitions) {
      long[] hold = mine.remove(p);
      if (hold != null) {
        closed.add(new Hold(member, p, hold[0], hold[1], now, why));
      }
    }
  }

  /**
   * Ends every hold of a member that crashed now: it acts no more, and its rebalancer (which a test
   * crashes by closing its client under it) is no longer sampled.
   */
  public synchronized void crashed(String member) {
    crashed.add(member);
    Map<Integer, long[]> mine = open.getOrDefault(member, Map.of());
    end(member, Set.copyOf(mine.keySet()), "crashed");
  }

  /** Returns the holds so far, open ones ending at {@link Long#MAX_VALUE}. */
  synchronized List<Hold> holds() {
    List<Hold> all = new ArrayList<>(closed);
    open.forEach(
        (member, mine) ->
            mine.forEach(
                (p, h) -> all.add(new Hold(member, p, h[0], h[1], Long.MAX_VALUE, "open"))));
    return all;
  }

  public synchronized List<String> events() {
    return new ArrayList<>(events);
  }

  /**
   * Asserts the strict history (no overlap but after a server-side session end within the bound,
   * tokens rising) and the callback order: a revoked or suspended bracket ends before the next
   * holder's {@code onAssigned}, and tokens rise per partition.
   */
  public void assertExclusiveAndFenced() {
    assertThat(strict.size()).as("holds recorded in the strict history").isPositive();
    assertThat(strict.violations(leaseBound))
        .as("strict history (%d holds; excused: %s)", strict.size(), strict.excused())
        .isEmpty();
    Map<Integer, List<Hold>> byPartition = new HashMap<>();
    for (Hold h : holds()) {
      byPartition.computeIfAbsent(h.partition(), p -> new ArrayList<>()).add(h);
    }
    byPartition.forEach(
        (p, list) -> {
          list.sort(Comparator.comparingLong(Hold::start));
          for (int i = 1; i < list.size(); i++) {
            Hold prev = list.get(i - 1);
            Hold next = list.get(i);
            // See the class comment: a lost bracket's end is when the member heard, not when it
            // stopped; its grant reads are checked strictly above.
            if (!prev.why().equals("lost")) {
              assertThat(prev.end())
                  .as(
                      "partition %d: %s still held it when %s started; events %s",
                      p, prev, next, events())
                  .isLessThanOrEqualTo(next.start());
            }
            if (next.member().equals(prev.member()) && next.token() == prev.token()) {
              continue; // the same grant, resumed after a suspension
            }
            assertThat(next.token())
                .as("partition %d: token of %s after %s", p, next, prev)
                .isGreaterThan(prev.token());
          }
        });
  }

  /** Stops sampling and removes the session watches (before a leak check runs). */
  @Override
  public void close() throws Exception {
    Thread t;
    synchronized (this) {
      t = sampler;
      sampler = null;
    }
    if (t != null) {
      t.interrupt();
      t.join(5_000);
    }
    for (AutoCloseable w : watches) {
      w.close();
    }
    watches.clear();
  }

  /** Returns the partitions each member holds right now, per the callbacks. */
  synchronized Map<String, Set<Integer>> current() {
    Map<String, Set<Integer>> now = new HashMap<>();
    open.forEach((m, mine) -> now.put(m, Set.copyOf(mine.keySet())));
    return now;
  }
}
