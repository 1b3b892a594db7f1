package io.ringwork.rebalancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several rings per service (issue 19, item 5) against a real ZooKeeper: two "conductors", each one
 * {@link RingworkClient} (one session) with a ring per conductor group × hardware type.
 */
final class RingworkClientTest {

  private static final int P = 64;
  private static final Duration SESSION = Duration.ofSeconds(4);
  private static final List<String> GROUPS = List.of("cg1-ipmi", "cg1-redfish", "cg2-ipmi");

  /** Generous for a loaded machine (load 10+): each wait is for a few handoffs of 100 ms. */
  private static final Duration STABLE = RingworkZooKeeper.scaled(Duration.ofSeconds(30));

  /** The threads a client and its rings start: ours, Curator's and ZooKeeper's client threads. */
  private static final Pattern OUR_THREADS =
      Pattern.compile("ringwork-.*|Curator-.*|.*-EventThread|.*-SendThread.*");

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final Map<String, History> histories = new HashMap<>();

  private RingworkClient client() {
    RingworkClient c =
        RingworkClient.newBuilder()
            .connectString(zk.connectString())
            .sessionTimeout(SESSION)
            .build();
    c.start();
    return c;
  }

  /**
   * The history of a group: callbacks, sampled grant reads, and its sessions' ends on the server.
   */
  private History history(String group) {
    return histories.computeIfAbsent(
        group,
        g -> {
          History h = new History();
          h.watch(zk.client(), g);
          return h;
        });
  }

  @AfterEach
  void closeHistories() throws Exception {
    for (History h : histories.values()) {
      h.close(); // its watches go before the leak check
    }
  }

  /** One ring per group on {@code client}, as member {@code id}, started. */
  private Map<String, Rebalancer> rings(RingworkClient client, String id) {
    Map<String, Rebalancer> rings = new LinkedHashMap<>();
    for (String group : GROUPS) {
      Rebalancer r =
          client
              .newRebalancer()
              .group(group)
              .member(Member.of(id))
              .partitions(P)
              .settleDelay(Duration.ofMillis(50))
              .revokeDeadline(Duration.ofSeconds(1))
              .metrics(new MetricRegistry())
              .listener(history(group).listenerFor(id))
              .build();
      history(group).track(r);
      r.start();
      rings.put(group, r);
    }
    return rings;
  }

  private static void awaitStable(Map<String, Rebalancer> rings) throws InterruptedException {
    for (Map.Entry<String, Rebalancer> e : rings.entrySet()) {
      assertThat(e.getValue().awaitStable(STABLE)).as("ring %s stable", e.getKey()).isTrue();
    }
  }

  private static Map<Integer, Long> tokens(Rebalancer r) {
    Map<Integer, Long> tokens = new HashMap<>();
    for (int p : r.ownedPartitions()) {
      r.grant(p).ifPresent(g -> tokens.put(p, g.token()));
    }
    return tokens;
  }

  private static Set<Thread> ourThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && OUR_THREADS.matcher(t.getName()).matches())
        .collect(Collectors.toSet());
  }

  /**
   * The server ends the shared session at once (a second handle closes it), as an operator's tool
   * could: the clients learn of it a round trip later, so the lease cannot foresee it (see {@link
   * io.ringwork.membership.SessionLease}) and a successor may activate before the rings' callbacks
   * ran: fencing tokens cover that window, so here the holds are checked for rising tokens.
   */
  @Test
  void sessionEndedOnTheServer_seenByEveryRingAtOnce_allRecover_nothingLeaks() throws Exception {
    sessionLoss(true);
  }

  /**
   * The client loses the shared session first (as after a partition: the server expires it only
   * later): every ring stops before any successor can start, so the holds are checked for strict
   * exclusivity as well as rising tokens.
   */
  @Test
  void sessionLostByTheClient_seenByEveryRingAtOnce_allRecover_nothingLeaks() throws Exception {
    sessionLoss(false);
  }

  private void sessionLoss(boolean onServer) throws Exception {
    Set<Thread> before = ourThreads();
    RingworkClient a = client();
    RingworkClient b = client();
    Map<String, Rebalancer> ringsA = rings(a, "c1");
    Map<String, Rebalancer> ringsB = rings(b, "c2");
    awaitStable(ringsA);
    awaitStable(ringsB);
    assertThat(a.rebalancers()).containsExactlyElementsOf(ringsA.values());

    // One session per client: every ring's member node is owned by it.
    long oldSession = a.sessionId();
    for (String group : GROUPS) {
      Stat stat = zk.client().checkExists().forPath("/ringwork/" + group + "/members/c1");
      assertThat(stat.getEphemeralOwner())
          .as("member node of c1 in %s", group)
          .isEqualTo(oldSession);
      assertThat(ringsA.get(group).curator()).isSameAs(a.curator());
    }
    Map<String, Map<Integer, Long>> held = new HashMap<>();
    ringsA.forEach((g, r) -> held.put(g, tokens(r)));
    held.forEach((g, t) -> assertThat(t).as("c1 holds partitions of %s", g).isNotEmpty());

    // The session ends on the server. Every ring stops granting within the lease bound: 0.7 of
    // the session timeout (SessionLease), plus a margin for a loaded machine.
    long expired = System.nanoTime();
    if (onServer) {
      RingworkZooKeeper.expire(a.curator());
    } else {
      a.curator().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
    }
    Duration leaseBound =
        SESSION.multipliedBy(7).dividedBy(10).plus(RingworkZooKeeper.scaled(Duration.ofSeconds(1)));
    await()
        .atMost(leaseBound)
        .pollInterval(Duration.ofMillis(5))
        .untilAsserted(
            () -> {
              for (String group : GROUPS) {
                Rebalancer r = ringsA.get(group);
                held.get(group)
                    .forEach(
                        (p, token) ->
                            assertThat(r.grant(p).map(Grant::token).orElse(0L))
                                .as("ring %s partition %d after the session ended", group, p)
                                .isNotEqualTo(token));
              }
            });
    long stoppedMillis = (System.nanoTime() - expired) / 1_000_000;
    for (String group : GROUPS) {
      await()
          .atMost(STABLE)
          .until(
              () -> histories.get(group).events().stream().anyMatch(e -> e.startsWith("c1 lost")));
    }

    // All recover, in the client's next session, with higher tokens; each group stayed exclusive.
    awaitStable(ringsA);
    awaitStable(ringsB);
    long newSession = a.sessionId();
    assertThat(newSession).isNotEqualTo(oldSession).isNotZero();
    for (String group : GROUPS) {
      Rebalancer r = ringsA.get(group);
      assertThat(r.ownedPartitions()).as("c1 in %s after recovery", group).isNotEmpty();
      long oldMax =
          held.get(group).values().stream().mapToLong(Long::longValue).max().orElseThrow();
      for (long token : tokens(r).values()) {
        assertThat(token).as("a token of c1 in %s after recovery", group).isGreaterThan(oldMax);
      }
      Stat stat = zk.client().checkExists().forPath("/ringwork/" + group + "/members/c1");
      assertThat(stat.getEphemeralOwner()).isEqualTo(newSession);
      assertThat(r.ownedPartitions().size() + ringsB.get(group).ownedPartitions().size())
          .isEqualTo(P);
      if (onServer) {
        // Grant reads per incarnation, an overlap excused only after the server ended the
        // earlier holder's session and within the lease bound; callback holds by their tokens.
        History h = histories.get(group);
        assertThat(h.strict().violations(Duration.ofSeconds(1)))
            .as("strict history of %s (excused: %s)", group, h.strict().excused())
            .isEmpty();
        assertFenced(h);
      } else {
        histories.get(group).assertExclusiveAndFenced();
      }
    }
    // Nothing of the old session is left (once the server has expired it, for a loss the client
    // saw first): no node it owns (member, acknowledgement, lock), and no watch of it.
    await()
        .atMost(SESSION.plus(STABLE))
        .untilAsserted(
            () -> {
              assertThat(ephemeralsOf(oldSession, "/ringwork")).isEmpty();
              assertThat(RebalancerTest.watchesOfSession(zk.port(), oldSession)).isEmpty();
            });

    // Closing one ring leaves the others, and the session, as they were.
    Map<Integer, Long> redfish = tokens(ringsA.get("cg1-redfish"));
    ringsA.get("cg1-ipmi").close();
    assertThat(ringsB.get("cg1-ipmi").awaitStable(STABLE)).isTrue();
    await().atMost(STABLE).until(() -> ringsB.get("cg1-ipmi").ownedPartitions().size() == P);
    assertThat(zk.client().checkExists().forPath("/ringwork/cg1-ipmi/members/c1")).isNull();
    assertThat(a.sessionId()).isEqualTo(newSession);
    assertThat(ringsA.get("cg1-redfish").state()).isEqualTo(Rebalancer.State.STABLE);
    assertThat(tokens(ringsA.get("cg1-redfish"))).isEqualTo(redfish);
    assertThat(a.rebalancers()).containsExactly(ringsA.get("cg1-redfish"), ringsA.get("cg2-ipmi"));

    // Closing the client closes its rings (each hands over), then the session.
    a.close();
    for (Rebalancer r : ringsA.values()) {
      assertThat(r.state()).isEqualTo(Rebalancer.State.CLOSED);
    }
    awaitStable(ringsB);
    for (Rebalancer r : ringsB.values()) {
      assertThat(r.ownedPartitions()).hasSize(P);
    }
    b.close();
    await()
        .atMost(RingworkZooKeeper.scaled(Duration.ofSeconds(10)))
        .untilAsserted(
            () -> {
              Set<Thread> left = ourThreads();
              left.removeAll(before);
              assertThat(left).as("threads left after close").isEmpty();
            });
    int excused = 0;
    for (History h : histories.values()) {
      excused += h.strict().excused().size();
    }
    System.out.printf(
        "session %s: every ring stopped granting within %d ms; strict history excused %d%n",
        onServer ? "ended on the server" : "lost by the client", stoppedMillis, excused);
  }

  @Test
  void oneRingPerGroup_andOnlyWhileOpen() throws Exception {
    RingworkClient unstarted =
        RingworkClient.newBuilder().connectString(zk.connectString()).build();
    assertThatThrownBy(unstarted::newRebalancer)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("after start()");
    unstarted.close();

    try (RingworkClient c = client()) {
      Rebalancer first = c.newRebalancer().group("g").member(Member.of("m")).partitions(P).build();
      assertThatThrownBy(
              () -> c.newRebalancer().group("g").member(Member.of("n")).partitions(P).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("/ringwork/g")
          .hasMessageContaining("one ring per group");
      assertThatThrownBy(() -> c.newRebalancer().connectString("elsewhere:2181"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("ZooKeeper source was already set");
      // Another namespace is another group.
      Rebalancer other =
          c.newRebalancer()
              .group("g")
              .namespace("/other")
              .member(Member.of("m"))
              .partitions(P)
              .build();
      first.close();
      Rebalancer again = c.newRebalancer().group("g").member(Member.of("m")).partitions(P).build();
      assertThat(c.rebalancers()).containsExactly(other, again);
    }
    assertThatThrownBy(
            () -> RingworkClient.newBuilder().curator(zk.client()).sessionTimeout(SESSION).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sessionTimeout");
    assertThatThrownBy(() -> RingworkClient.newBuilder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ZooKeeper source");
  }

  @Test
  void callersClient_ringsCloseWithTheRingworkClient_theCallersSessionLivesOn() throws Exception {
    CuratorFramework caller =
        CuratorFrameworkFactory.newClient(zk.connectString(), 4000, 2000, new RetryOneTime(100));
    caller.start();
    Set<Thread> before = ourThreads();
    try {
      RingworkClient c = RingworkClient.newBuilder().curator(caller).build();
      c.start();
      assertThat(c.curator()).isSameAs(caller);
      Map<String, Rebalancer> rings = rings(c, "c1");
      awaitStable(rings);
      long session = c.sessionId();
      for (Rebalancer r : rings.values()) {
        assertThat(r.ownedPartitions()).hasSize(P);
      }
      c.close();
      for (Rebalancer r : rings.values()) {
        assertThat(r.state()).isEqualTo(Rebalancer.State.CLOSED);
      }
      assertThat(caller.getZookeeperClient().isConnected())
          .as("the caller's client is open")
          .isTrue();
      assertThat(caller.getZookeeperClient().getZooKeeper().getSessionId()).isEqualTo(session);
      await()
          .atMost(STABLE)
          .untilAsserted(
              () ->
                  assertThat(ephemeralsOf(session, "/ringwork"))
                      .as("nodes of the rings")
                      .isEmpty());
      // The rings' threads and the session lease's renewer are gone; the caller's client, and
      // Curator's threads of it, stay with the caller.
      await()
          .atMost(RingworkZooKeeper.scaled(Duration.ofSeconds(10)))
          .untilAsserted(
              () -> {
                Set<Thread> left = ourThreads();
                left.removeAll(before);
                left.removeIf(t -> !t.getName().startsWith("ringwork-"));
                assertThat(left).as("threads left after close").isEmpty();
              });
    } finally {
      caller.close();
    }
  }

  /**
   * A ring counts as open to its client until its close has finished, not merely until it reports
   * CLOSED (which it does before it closes its locks and leaves the group): while it is still
   * leaving, {@link RingworkClient#rebalancers()} lists it, a new ring of its group is refused, and
   * the client's close waits for it. Here the ring's close is held between the two: its guards'
   * monitor is taken by the test, which stalls its event thread past the close budget and then its
   * {@code locks.close()}.
   */
  @Test
  void ringStillLeaving_staysListedAndHoldsItsGroup_untilItsCloseFinished() throws Exception {
    try (RingworkClient c = client()) {
      Rebalancer r =
          c.newRebalancer()
              .group("g")
              .member(Member.of("m"))
              .partitions(P)
              .settleDelay(Duration.ofMillis(50))
              .revokeDeadline(Duration.ofMillis(200))
              .build();
      r.start();
      assertThat(r.awaitStable(STABLE)).isTrue();
      assertThat(r.ownedPartitions()).hasSize(P);
      Object guardsMonitor = r.guardsForTest();
      CountDownLatch held = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      Thread holder =
          new Thread(
              () -> {
                synchronized (guardsMonitor) {
                  held.countDown();
                  try {
                    release.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }
              });
      holder.start();
      Thread closer = new Thread(r::close);
      try {
        assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
        closer.start();
        // The close gives up on its event thread after 2 x 200 ms + 5 s, then reports CLOSED and
        // blocks in locks.close(); the wait allows for a loaded machine.
        await().atMost(STABLE).until(() -> r.state() == Rebalancer.State.CLOSED);
        assertThat(r.shutdownFinished()).isNotDone();
        assertThat(c.rebalancers()).as("a ring still leaving").containsExactly(r);
        assertThatThrownBy(
                () -> c.newRebalancer().group("g").member(Member.of("n")).partitions(P).build())
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("one ring per group");
      } finally {
        release.countDown();
      }
      closer.join(STABLE.toMillis());
      assertThat(r.shutdownFinished()).isDone();
      assertThat(c.rebalancers()).isEmpty();
      Rebalancer again = c.newRebalancer().group("g").member(Member.of("n")).partitions(P).build();
      assertThat(c.rebalancers()).containsExactly(again);
    }
  }

  /** Per partition, in the order holds began, each new holder's token is higher. */
  private static void assertFenced(History history) {
    Map<Integer, List<History.Hold>> byPartition = new HashMap<>();
    for (History.Hold h : history.holds()) {
      byPartition.computeIfAbsent(h.partition(), p -> new ArrayList<>()).add(h);
    }
    byPartition.forEach(
        (p, holds) -> {
          holds.sort(Comparator.comparingLong(History.Hold::start));
          for (int i = 1; i < holds.size(); i++) {
            History.Hold prev = holds.get(i - 1);
            History.Hold next = holds.get(i);
            if (next.member().equals(prev.member()) && next.token() == prev.token()) {
              continue; // one grant, resumed after a suspension
            }
            assertThat(next.token())
                .as("partition %d: %s after %s", p, next, prev)
                .isGreaterThan(prev.token());
          }
        });
  }

  private List<String> ephemeralsOf(long session, String path) throws Exception {
    List<String> found = new ArrayList<>();
    Stat stat = zk.client().checkExists().forPath(path);
    if (stat == null) {
      return found;
    }
    if (stat.getEphemeralOwner() == session) {
      found.add(path);
    }
    for (String child : zk.client().getChildren().forPath(path)) {
      found.addAll(ephemeralsOf(session, path + "/" + child));
    }
    return found;
  }
}
