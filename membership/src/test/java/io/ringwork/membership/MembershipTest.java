package io.ringwork.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.listen.ListenerManager;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Membership against a real ZooKeeper server (ringwork-test's RingworkZooKeeper). */
final class MembershipTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();
  private final List<Membership> members = new ArrayList<>();
  private final List<CuratorFramework> clients = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    members.forEach(Membership::close);
    clients.forEach(CuratorFramework::close);
  }

  private Membership join(Member m, MembershipListener... listeners) {
    Membership.Builder b =
        Membership.newBuilder()
            .group("conductors")
            .member(m)
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(4));
    for (MembershipListener l : listeners) {
      b.listener(l);
    }
    Membership membership = b.build();
    members.add(membership);
    membership.start();
    return membership;
  }

  private CuratorFramework client() {
    CuratorFramework c =
        CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
    c.start();
    clients.add(c);
    return c;
  }

  private static List<String> ids(View v) {
    return v.members().stream().map(MemberInfo::id).toList();
  }

  @Test
  void joinLeaveAndUpdate_seenByEveryMember() {
    Membership a = join(Member.of("a", 1, "z1"));
    Membership b = join(Member.of("b", 2, "z2").withLabels(List.of("hw=ipmi")));
    await()
        .atMost(WAIT)
        .until(
            () ->
                ids(a.view()).equals(List.of("a", "b")) && ids(b.view()).equals(List.of("a", "b")));
    MemberInfo seen = a.view().member("b").orElseThrow();
    assertThat(seen.member().weight()).isEqualTo(2);
    assertThat(seen.member().zone()).contains("z2");
    assertThat(seen.member().labels()).containsExactly("hw=ipmi");
    assertThat(seen.incarnation()).isPositive();
    assertThat(seen.since()).isPositive();
    long version = a.view().version();
    b.update(Member.of("b", 5, "z2"));
    b.setDraining(true);
    await()
        .atMost(WAIT)
        .until(
            () ->
                a.view()
                    .member("b")
                    .map(m -> m.draining() && m.member().weight() == 5)
                    .orElse(false));
    assertThat(a.view().version()).isGreaterThan(version);
    assertThat(a.view().activeMembers()).extracting(Member::id).containsExactly("a");
    assertThat(b.state()).isEqualTo(Membership.State.JOINED);
    b.close();
    assertThat(b.state()).isEqualTo(Membership.State.CLOSED);
    await().atMost(WAIT).until(() -> ids(a.view()).equals(List.of("a")));
  }

  @Test
  void severalMembers_eachWithItsOwnSession_convergeWithOneLeader() {
    for (int i = 0; i < 6; i++) {
      join(Member.of("m" + i));
    }
    await()
        .atMost(WAIT)
        .until(() -> members.stream().allMatch(m -> m.view().members().size() == 6));
    await().atMost(WAIT).until(() -> members.stream().filter(Membership::isLeader).count() == 1);
    String leader =
        members.stream().filter(Membership::isLeader).findFirst().orElseThrow().self().id();
    await()
        .atMost(WAIT)
        .until(
            () ->
                members.stream()
                    .allMatch(m -> m.view().leader().equals(java.util.Optional.of(leader))));
  }

  @Test
  void labelFilter_onePerConductorGroupAndHardwareType() {
    Membership a = join(Member.of("a").withLabels(List.of("group=g1", "hw=ipmi")));
    join(Member.of("b").withLabels(List.of("group=g1", "hw=redfish")));
    join(Member.of("c").withLabels(List.of("group=g2", "hw=ipmi")));
    await().atMost(WAIT).until(() -> a.view().members().size() == 3);
    assertThat(ids(a.view(Set.of("group=g1")))).containsExactly("a", "b");
    assertThat(ids(a.view(Set.of("hw=ipmi")))).containsExactly("a", "c");
    assertThat(ids(a.view(Set.of("group=g1", "hw=ipmi")))).containsExactly("a");
  }

  @Test
  void corruptMemberData_leftOutOfViews_watchersSurvive() throws Exception {
    Membership a = join(Member.of("a"));
    CuratorFramework raw = client();
    raw.create()
        .withMode(CreateMode.EPHEMERAL)
        .forPath("/ringwork/conductors/members/junk", "{not json".getBytes(StandardCharsets.UTF_8));
    raw.create()
        .withMode(CreateMode.EPHEMERAL)
        .forPath(
            "/ringwork/conductors/members/future",
            "{\"format\":99,\"weight\":1}".getBytes(StandardCharsets.UTF_8));
    join(Member.of("b"));
    await().atMost(WAIT).until(() -> ids(a.view()).equals(List.of("a", "b")));
    // The watch still works after the corrupt nodes.
    join(Member.of("c"));
    await().atMost(WAIT).until(() -> ids(a.view()).equals(List.of("a", "b", "c")));
  }

  @Test
  void duplicateId_failsClearly() {
    join(Member.of("same"));
    assertThatThrownBy(() -> join(Member.of("same")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("member id 'same' is already held by a live session")
        .hasMessageContaining("/ringwork/conductors/members/same");
  }

  @Test
  void throwingListener_loggedAndOthersStillCalled() {
    List<View> seen = new CopyOnWriteArrayList<>();
    MembershipListener bad =
        new MembershipListener() {
          @Override
          public void onView(View view) {
            throw new IllegalStateException("boom");
          }
        };
    MembershipListener good =
        new MembershipListener() {
          @Override
          public void onView(View view) {
            assertThat(Thread.currentThread().getName()).startsWith("ringwork-membership-");
            seen.add(view);
          }
        };
    Membership a = join(Member.of("a"), bad, good);
    join(Member.of("b"));
    await().atMost(WAIT).until(() -> seen.stream().anyMatch(v -> v.members().size() == 2));
    assertThat(seen).extracting(View::version).isSorted();
    assertThat(a.view().members()).hasSize(2);
  }

  @Test
  void close_leavesNoEphemeralsAndNoWatchersOnASharedClient() throws Exception {
    CuratorFramework shared = client();
    Membership m =
        Membership.newBuilder().group("g").member(Member.of("x")).curator(shared).build();
    m.start();
    await().atMost(WAIT).until(() -> m.view().members().size() == 1);
    m.close();
    m.close(); // idempotent
    assertThat(shared.getChildren().forPath("/ringwork/g/members")).isEmpty();
    assertThat(shared.getChildren().forPath("/ringwork/g/leader")).isEmpty();
    var zk = shared.getZookeeperClient().getZooKeeper();
    // Only the client's own watch on /zookeeper/config (Curator's ensemble tracker) may remain.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(Watches.all(zk)).allMatch(w -> w.endsWith(":/zookeeper/config")));
  }

  /**
   * Curator can report LOST, then SUSPENDED (a reconnection attempt fails), then RECONNECTED, on
   * which the member rejoins. A listener told onSuspended there waited for an onResumed that a
   * rejoin never sends: the rebalancer stayed SUSPENDED for good (ScaleScenario at N = 300 under
   * CPU starvation: "state=SUSPENDED ... paused=true joined=true"). Failed before the fix.
   */
  @Test
  @SuppressWarnings("unchecked")
  void lostThenSuspendedThenReconnected_noSuspensionLeftOpen() throws Exception {
    CuratorFramework shared = client();
    List<String> events = new CopyOnWriteArrayList<>();
    MembershipListener recorder =
        new MembershipListener() {
          @Override
          public void onSuspended() {
            events.add("suspended");
          }

          @Override
          public void onResumed() {
            events.add("resumed");
          }

          @Override
          public void onLost() {
            events.add("lost");
          }
        };
    Membership m =
        Membership.newBuilder()
            .group("g")
            .member(Member.of("x"))
            .curator(shared)
            .listener(recorder)
            .build();
    members.add(m);
    m.start();
    await().atMost(WAIT).until(() -> m.view().members().size() == 1);
    ListenerManager<ConnectionStateListener, ConnectionStateListener> states =
        (ListenerManager<ConnectionStateListener, ConnectionStateListener>)
            shared.getConnectionStateListenable();
    for (ConnectionState s :
        List.of(ConnectionState.LOST, ConnectionState.SUSPENDED, ConnectionState.RECONNECTED)) {
      states.forEach(l -> l.stateChanged(shared, s));
    }
    await().atMost(WAIT).until(() -> m.state() == Membership.State.JOINED);
    Thread.sleep(200);
    assertThat(events).containsExactly("lost");
    // A real blip while joined is still reported, and resumed.
    zk.stopServer();
    await().atMost(WAIT).until(() -> events.contains("suspended"));
    zk.restartServer();
    await().atMost(WAIT).until(() -> events.contains("resumed"));
    assertThat(events).containsExactly("lost", "suspended", "resumed");
  }

  @Test
  void builder_badInput_clearErrors() {
    assertThatThrownBy(() -> Membership.newBuilder().group(""))
        .hasMessageContaining("group must be non-empty");
    assertThatThrownBy(() -> Membership.newBuilder().namespace("ringwork"))
        .hasMessageContaining("absolute path");
    assertThatThrownBy(() -> Membership.newBuilder().group("g").member(Member.of("a")).build())
        .hasMessageContaining("a ZooKeeper source is required");
    assertThatThrownBy(() -> Membership.newBuilder().connectString("a:1").embedded(null))
        .hasMessageContaining("already set");
  }

  @Test
  void embeddedServer_startsOnLoopbackAndServesAGroup() {
    Membership m =
        Membership.newBuilder().group("demo").member(Member.of("solo")).embedded(null).build();
    members.add(m);
    m.start();
    await().atMost(WAIT).until(() -> ids(m.view()).equals(List.of("solo")));
    assertThat(m.client().getZookeeperClient().getCurrentConnectionString())
        .startsWith("127.0.0.1:");
  }
}
