package io.ringwork.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What another module (the lock service) asks of a group through {@link GroupFacts} instead of
 * reading its layout: against a real ZooKeeper server.
 */
final class GroupFactsTest {

  // Generous for a loaded machine (load 10+): a join takes milliseconds when idle.
  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();
  private CuratorFramework client;
  private final List<Membership> members = new ArrayList<>();
  private final GroupPaths paths = GroupPaths.of(ConnectionDefaults.NAMESPACE, "g");

  @BeforeEach
  void start() throws Exception {
    client = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
    client.start();
  }

  @AfterEach
  void stop() throws Exception {
    members.forEach(Membership::close);
    client.close();
  }

  private Membership join(String id, Membership.Role role) {
    Membership m =
        Membership.newBuilder()
            .group("g")
            .member(Member.of(id))
            .role(role)
            .connectString(zk.connectString())
            .sessionTimeout(Duration.ofSeconds(4))
            .build();
    members.add(m);
    m.start();
    return m;
  }

  @Test
  void tooz_isAnsweredFromTheStoredConfig() {
    GroupFacts facts = GroupFacts.of(client, paths);
    assertThat(facts.config()).isEmpty();
    assertThat(facts.isTooz()).as("no config yet").isFalse();
    // A lock service starts first: a partial config says nothing about the strategy.
    assertThat(facts.createConfig(GroupConfig.partial(16))).isTrue();
    assertThat(facts.createConfig(GroupConfig.partial(32))).as("compare-and-set").isFalse();
    assertThat(facts.isTooz()).isFalse();
    // The first rebalancer, a tooz one, completes it (its points are not a partition count).
    facts.ensureConfig(GroupConfig.of("tooz", 32, 1, KeyRouter.wholeKey()));
    assertThat(facts.isTooz()).isTrue();
    assertThat(facts.config().orElseThrow().strategy()).isEqualTo("tooz");
    // A member with other settings fails, naming each difference.
    assertThatThrownBy(
            () -> facts.ensureConfig(GroupConfig.of("balanced", 32, 1, KeyRouter.wholeKey())))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "this member's settings do not match group config at /ringwork/g/config;"
                + " strategy is tooz in the group but balanced here");
  }

  @Test
  void unreadableConfig_isNamed() throws Exception {
    client
        .create()
        .creatingParentsIfNeeded()
        .forPath(paths.config(), "{broken".getBytes(StandardCharsets.UTF_8));
    GroupFacts facts = GroupFacts.of(client, paths);
    assertThatThrownBy(facts::isTooz)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("/ringwork/g/config")
        .hasMessageContaining("{broken");
  }

  @Test
  void liveWorkers_areTheWorkersJoined_notObservers() throws Exception {
    GroupFacts facts = GroupFacts.of(client, paths);
    assertThat(facts.hasLiveWorkers()).as("no group at all").isFalse();
    assertThat(liveInMulti(facts)).isFalse();
    join("watcher", Membership.Role.OBSERVER);
    assertThat(facts.hasLiveWorkers()).as("an observer is not a worker").isFalse();
    Membership worker = join("w1", Membership.Role.WORKER);
    await().atMost(WAIT).until(facts::hasLiveWorkers);
    assertThat(liveInMulti(facts)).isTrue();
    worker.close();
    await().atMost(WAIT).until(() -> !facts.hasLiveWorkers());
    assertThat(liveInMulti(facts)).isFalse();
  }

  /** The read as one operation of a multi-read, next to another read. */
  private boolean liveInMulti(GroupFacts facts) throws Exception {
    List<OpResult> results =
        client
            .getZookeeperClient()
            .getZooKeeper()
            .multi(List.of(Op.getChildren("/"), facts.liveWorkersRead()));
    return GroupFacts.hasLiveWorkers(results.get(1));
  }
}
