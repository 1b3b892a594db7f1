package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.Lifecycle;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.Membership;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

/**
 * Whole handoffs of coordinated mode (joins, leaves, a crash, the leadership moving or its holder
 * crashing mid-handoff) with the real {@link HandoffDriver}, {@link Handoff} and {@link
 * CoordinatedMode} over an {@link InMemoryGroupStore}, without ZooKeeper: revoke, acknowledge,
 * barrier, activate. The members' event threads are {@link Simulation} threads, so each seed is one
 * interleaving of their events, and after every single event this test checks that no partition has
 * two active grants and that a partition's token rises whenever its owner changes. At the end each
 * handoff must be complete: every live member has activated the state in force, each partition is
 * active on exactly its primary, and the shares are fair.
 *
 * <p>The membership view is an input this test feeds: each member hears of a change on its own
 * event thread, in order, at a time the seed picks. A crash ends the member's session at once and
 * its grants stop counting from then on, as the session lease ends them before the server expires
 * the session in production ({@code Issue18ExclusivityTest}). The same protocol against ZooKeeper
 * is tested by {@code RebalancerTest}, {@code RebalancerClusterTest} and {@code
 * ExclusivityFaultRunsTest}.
 */
final class HandoffInMemoryTest {

  private static final int PARTITIONS = 16;
  private static final int SEEDS = 40;
  private static final long MAX_STEPS = 200_000;

  @Test
  void joinsAndLeaves_neverOverlap_andEveryHandoffCompletes() {
    for (long seed = 0; seed < SEEDS; seed++) {
      Group g = new Group(seed);
      g.join("a");
      g.settle("a");
      g.join("b");
      g.settle("a", "b");
      g.join("c"); // b, not the leader, gives partitions to c
      g.settle("a", "b", "c");
      g.join("d");
      g.leave("b");
      g.settle("a", "c", "d");
      g.leave("a"); // the leader leaves gracefully: c leads next
      g.settle("c", "d");
    }
  }

  @Test
  void leaderCrashesMidHandoff_theNextLeaderCompletesIt_withoutOverlap() {
    for (long seed = 0; seed < SEEDS; seed++) {
      Group g = new Group(seed);
      long before = g.settledThreeThenJoin("d");
      // Mid-handoff: the leader has published the table for d and a worker other than the leader
      // acknowledged it (the leader's own acknowledgement goes with its session), but no barrier
      // names it yet.
      g.runUntil(
          () -> {
            Assignment published = g.store.assignment();
            if (published.version() == before) {
              return false;
            }
            HandoffState next = HandoffState.version(published.version());
            return g.store.acks().entrySet().stream()
                    .anyMatch(e -> !e.getKey().equals("a") && e.getValue().state().equals(next))
                && !g.store.barrier().state().equals(next);
          });
      g.crash("a");
      g.settle("b", "c", "d");
    }
  }

  @Test
  void leadershipMovesMidHandoff_theDeposedLeaderActsLate_withoutOverlap() {
    for (long seed = 0; seed < SEEDS; seed++) {
      Group g = new Group(seed);
      long before = g.settledThreeThenJoin("d");
      g.runUntil(() -> g.store.assignment().version() != before);
      // The leadership moves while both are alive, and the deposed leader hears of it 300 ms (of
      // the simulation's time) after the new one: meanwhile both act as leader (told at once, the
      // deposed one acted on nothing but tasks already queued).
      g.moveLeadership("a", "c");
      g.leave("b");
      g.settle("a", "c", "d");
      assertThat(g.nodes.get("a").leader).as("seed %d: a heard it was deposed", seed).isFalse();
    }
  }

  /**
   * A join window does not wait for ever: views that keep reaching the leader closer together than
   * the window (50 ms here, a view every 40 ms for 2 s) hold c's rebalance back until ten windows
   * after the first change, not until they stop.
   */
  @Test
  void viewsThatNeverStop_holdTheRebalanceBackAtMostTenWindows() {
    for (long seed = 0; seed < SEEDS; seed++) {
      Group g = new Group(seed);
      g.join("a");
      g.join("b");
      g.settle("a", "b");
      long before = g.store.assignment().version();
      long joined = g.sim.now();
      g.join("c");
      Node leader = g.nodes.get("a");
      for (int i = 1; i <= 50; i++) {
        leader.thread.schedule(() -> leader.events.onView(), 40L * i, TimeUnit.MILLISECONDS);
      }
      g.runUntil(() -> g.store.assignment().version() != before);
      assertThat(g.store.assignment().members())
          .extracting(Member::id)
          .as("seed %d: the table after the join", seed)
          .contains("c");
      long publishedAfter = TimeUnit.NANOSECONDS.toMillis(g.sim.now() - joined);
      assertThat(publishedAfter)
          .as("seed %d: ms from c's join to the table that places it", seed)
          .isBetween(450L, 10 * 50L);
      g.settle("a", "b", "c");
    }
  }

  /** A group of simulated members over one in-memory store. */
  private static final class Group {
    /**
     * Starts a, b and c (a leads), lets them settle, then starts {@code joiner}; returns the
     * version of the table in force before the join.
     */
    long settledThreeThenJoin(String joiner) {
      join("a");
      join("b");
      join("c");
      settle("a", "b", "c");
      long before = store.assignment().version();
      join(joiner);
      return before;
    }

    final long seed;
    final Simulation sim;
    final InMemoryGroupStore store = new InMemoryGroupStore();
    final Map<String, Node> nodes = new TreeMap<>();
    // The truth the views follow: the live workers, and who leads.
    final List<MemberInfo> workers = new ArrayList<>();
    String leader;
    // Per partition: the highest token any member showed, and who showed it.
    final long[] highest = new long[PARTITIONS];
    final String[] highestBy = new String[PARTITIONS];

    Group(long seed) {
      this.seed = seed;
      this.sim = new Simulation(seed);
    }

    void join(String id) {
      Node n = new Node(sim, store, id, store.openSession(), store.nextZxid());
      nodes.put(id, n);
      n.start();
      workers.add(n.info());
      publishView(n);
      if (leader == null) {
        elect(id);
      }
    }

    /** Leaves as close() does: revoke, withdraw the acknowledgement, then the member node goes. */
    void leave(String id) {
      Node n = nodes.get(id);
      n.lifecycle.close();
      n.loop.submitClosing(
          () -> {
            n.driver.closeOnEventThread();
            n.gone = true;
            n.thread.shutdown();
            store.endSession(n.session);
            memberGone(id);
          });
    }

    /** Crashes: the session ends at once, nothing is revoked or withdrawn. */
    void crash(String id) {
      Node n = nodes.get(id);
      n.gone = true;
      n.lifecycle.close();
      n.thread.shutdownNow();
      store.endSession(n.session);
      memberGone(id);
    }

    void moveLeadership(String from, String to) {
      leader = to;
      nodes.get(to).hearLeadership(true);
      Node deposed = nodes.get(from);
      deposed.thread.schedule(
          () -> {
            deposed.leader = false;
            deposed.events.onLeadership(false);
          },
          300,
          TimeUnit.MILLISECONDS);
    }

    private void memberGone(String id) {
      workers.removeIf(w -> w.id().equals(id));
      publishView(null);
      if (id.equals(leader)) {
        leader = null;
        nodes.values().stream().filter(n -> !n.gone).findFirst().ifPresent(n -> elect(n.id));
      }
    }

    private void elect(String id) {
      leader = id;
      nodes.get(id).hearLeadership(true);
    }

    /** Every live member hears of the new view on its own thread, later. */
    private void publishView(Node joiner) {
      List<MemberInfo> view = List.copyOf(workers);
      for (Node n : nodes.values()) {
        if (!n.gone) {
          n.hearView(view, n == joiner);
        }
      }
    }

    void runUntil(BooleanSupplier condition) {
      while (!condition.getAsBoolean()) {
        if (!sim.step()) {
          fail("seed %d: every thread went quiet before the condition held", seed);
        }
        activeOwners();
        if (sim.steps() > MAX_STEPS) {
          fail("seed %d: no end after %d steps", seed, MAX_STEPS);
        }
      }
    }

    /** Runs every event to the end, then checks that the handoff completed for {@code ids}. */
    void settle(String... ids) {
      runUntil(sim::quiet);
      Assignment table = store.assignment();
      assertThat(table).as("seed %d: a published table", seed).isNotNull();
      assertThat(table.members()).extracting(Member::id).as("seed %d", seed).containsExactly(ids);
      HandoffState state = HandoffState.version(table.version());
      for (String id : ids) {
        Node n = nodes.get(id);
        assertThat(n.driver.mode.state()).as("seed %d: state of %s", seed, id).isEqualTo(state);
        assertThat(n.driver.handoff.completes(state))
            .as("seed %d: the barrier completes %s for %s", seed, state, id)
            .isTrue();
      }
      Map<Integer, String> active = activeOwners();
      int[] counts = new int[ids.length];
      for (int p = 0; p < PARTITIONS; p++) {
        String primary = table.primary(p).id();
        assertThat(active.get(p)).as("seed %d: active owner of %d", seed, p).isEqualTo(primary);
        counts[List.of(ids).indexOf(primary)]++;
      }
      for (int c : counts) {
        assertThat(c)
            .as("seed %d: a fair share", seed)
            .isBetween(PARTITIONS / ids.length, (PARTITIONS + ids.length - 1) / ids.length);
      }
    }

    /**
     * The active owner of each partition; fails if a partition is active on two members, or if a
     * new owner's token is not above every earlier one's.
     */
    private Map<Integer, String> activeOwners() {
      Map<Integer, String> owners = new HashMap<>();
      for (Node n : nodes.values()) {
        if (n.gone || !(n.driver.ownership instanceof Ownership.Partitioned o) || o.paused()) {
          continue;
        }
        long[] tokens = o.tokens();
        for (int p = 0; p < tokens.length; p++) {
          if (tokens[p] == 0) {
            continue;
          }
          String other = owners.put(p, n.id);
          if (other != null) {
            fail(
                "seed %d, step %d: partition %d is active on %s and %s",
                seed, sim.steps(), p, other, n.id);
          }
          if (!n.id.equals(highestBy[p])) {
            if (tokens[p] <= highest[p]) {
              fail(
                  "seed %d, step %d: %s activated partition %d with token %d, not above %s's %d",
                  seed, sim.steps(), n.id, p, tokens[p], highestBy[p], highest[p]);
            }
            highest[p] = tokens[p];
            highestBy[p] = n.id;
          }
        }
      }
      return owners;
    }
  }

  /** One member: the session the test feeds it, its driver, and its simulated event thread. */
  private static final class Node implements GroupSession {
    final String id;
    final long session;
    final long incarnation;
    final Lifecycle lifecycle = new Lifecycle();
    final Simulation.EventThread thread;
    final EventLoop loop;
    final HandoffDriver driver;
    Events events;
    List<MemberInfo> view = List.of();
    boolean joined;
    boolean leader;
    boolean gone;

    Node(Simulation sim, InMemoryGroupStore store, String id, long session, long incarnation) {
      this.id = id;
      this.session = session;
      this.incarnation = incarnation;
      this.thread = sim.newThread();
      this.loop = new EventLoop(id, lifecycle, thread, Simulation.direct());
      RebalancerBuilder b =
          Rebalancer.newBuilder()
              .group("g")
              .member(Member.of(id))
              .partitions(PARTITIONS)
              .settleDelay(Duration.ofMillis(50))
              .nanoTime(sim::now);
      Standbys standbys = new Standbys(id);
      this.driver =
          new HandoffDriver(
              b,
              this,
              store.forMember(id),
              loop,
              lifecycle,
              new GuardedListener(b.listener(), id),
              standbys,
              new RebalancerMetrics(
                  b.metrics(), "g", id, () -> Ownership.NONE, () -> standbys.current().size()));
    }

    /** What {@link Rebalancer#start()} starts, but for ZooKeeper, the locks and the controls. */
    void start() {
      lifecycle.start();
      driver.handoff.start();
      try {
        driver.mode.start();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
      events = driver.sessionEvents();
    }

    MemberInfo info() {
      return new MemberInfo(Member.of(id), false, incarnation, 0, session, Membership.Role.WORKER);
    }

    void hearView(List<MemberInfo> next, boolean self) {
      thread.execute(
          () -> {
            view = next;
            joined |= self;
            events.onView();
          });
    }

    void hearLeadership(boolean leads) {
      thread.execute(
          () -> {
            leader = leads;
            events.onLeadership(leads);
          });
    }

    @Override
    public void connect() {}

    @Override
    public void start(Events e) {
      throw new UnsupportedOperationException("the test delivers the events");
    }

    @Override
    public void close() {}

    @Override
    public CuratorFramework client() {
      return null; // nothing in a handoff reads ZooKeeper here; the controls are never started
    }

    @Override
    public GroupPaths paths() {
      return GroupPaths.of("/ringwork", "g");
    }

    @Override
    public String selfId() {
      return id;
    }

    @Override
    public boolean joined() {
      return joined && !gone;
    }

    @Override
    public long incarnation() {
      return joined ? incarnation : 0;
    }

    @Override
    public long sessionId() {
      return joined ? session : 0;
    }

    @Override
    public List<MemberInfo> workers() {
      return view;
    }

    @Override
    public boolean isLeader() {
      return leader;
    }

    @Override
    public void setDraining(boolean draining) {}
  }
}
