package io.ringwork.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Membership against a real 3-node ensemble with servers and sessions failing. */
final class MembershipClusterTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.ensemble(3).checkingLeaks();
  private final List<Membership> members = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    members.forEach(Membership::close);
  }

  private Membership join(String id, MembershipListener listener) {
    Membership m =
        Membership.newBuilder()
            .group("agents")
            .member(Member.of(id))
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(6))
            .listener(listener)
            .build();
    members.add(m);
    m.start();
    return m;
  }

  @Test
  void serverLoss_doesNotDisturbMembership() throws Exception {
    for (int i = 0; i < 3; i++) {
      join("a" + i, new MembershipListener() {});
    }
    await()
        .atMost(WAIT)
        .until(() -> members.stream().allMatch(m -> m.view().members().size() == 3));
    zk.stopServer(0);
    join("late", new MembershipListener() {});
    await()
        .atMost(WAIT)
        .until(() -> members.stream().allMatch(m -> m.view().members().size() == 4));
    assertThat(members).allMatch(Membership::isJoined);
  }

  @Test
  void sessionExpiry_reportsLostAndRejoinsAsNewIncarnation() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    Membership watcher = join("watcher", new MembershipListener() {});
    Membership victim =
        join(
            "victim",
            new MembershipListener() {
              @Override
              public void onLost() {
                events.add("lost");
              }

              @Override
              public void onView(View view) {
                events.add("view");
              }
            });
    await().atMost(WAIT).until(() -> watcher.view().member("victim").isPresent());
    long before = victim.incarnation();
    victim.client().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
    await().atMost(WAIT).until(() -> events.contains("lost"));
    await().atMost(WAIT).until(() -> victim.isJoined() && victim.incarnation() > before);
    assertThat(victim.state()).isEqualTo(Membership.State.JOINED);
    await()
        .atMost(WAIT)
        .until(
            () -> watcher.view().member("victim").map(m -> m.incarnation() > before).orElse(false));
  }

  @Test
  void leaderFailover_anotherMemberLeads() {
    Membership first = join("first", new MembershipListener() {});
    await().atMost(WAIT).until(first::isLeader);
    List<Boolean> changes = new CopyOnWriteArrayList<>();
    Membership second =
        join(
            "second",
            new MembershipListener() {
              @Override
              public void onLeadership(boolean leader) {
                changes.add(leader);
              }
            });
    await().atMost(WAIT).until(() -> second.view().leader().equals(java.util.Optional.of("first")));
    first.close();
    await().atMost(WAIT).until(second::isLeader);
    assertThat(changes).contains(true);
    await()
        .atMost(WAIT)
        .until(() -> second.view().leader().equals(java.util.Optional.of("second")));
  }
}
