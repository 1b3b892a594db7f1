package io.ringwork.rebalancer.issues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.test.RingworkZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 23, item 3: the group's key router is stored in its config (an optional field), so that
 * tools route keys as the members do; configs without it still read, and a member with another
 * router is refused.
 */
final class Issue23Test {

  private static final Duration STABLE = Duration.ofSeconds(20);

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final List<Rebalancer> workers = new ArrayList<>();

  @AfterEach
  void stop() {
    workers.forEach(Rebalancer::close);
  }

  private Rebalancer worker(String group, String id, KeyRouter router) {
    var b =
        Rebalancer.newBuilder()
            .group(group)
            .member(Member.of(id))
            .connectString(zk.connectString())
            .partitions(16)
            .settleDelay(Duration.ofMillis(50));
    if (router != null) {
      b.router(router);
    }
    Rebalancer r = b.build();
    workers.add(r);
    r.start();
    return r;
  }

  @Test
  void storedRouter_upTo_isReadBack() throws Exception {
    Rebalancer r = worker("stacks", "w1", KeyRouter.upTo('/'));
    assertThat(r.awaitStable(STABLE)).isTrue();
    assertThat(GroupStatus.storedRouter(zk.client(), "/ringwork/stacks"))
        .contains(KeyRouter.upTo('/'));
  }

  @Test
  void storedRouter_default_isTheWholeKey() throws Exception {
    Rebalancer r = worker("plain", "w1", null);
    assertThat(r.awaitStable(STABLE)).isTrue();
    assertThat(GroupStatus.storedRouter(zk.client(), "/ringwork/plain"))
        .contains(KeyRouter.wholeKey());
  }

  @Test
  void configWithoutRouter_stillReads_andAMemberWithARouterJoins() throws Exception {
    String old =
        "{\"format\":1,\"partitions\":16,\"hash\":\"xxh3-64-top-bits\",\"strategy\":\"balanced\","
            + "\"replicas\":1}";
    zk.client()
        .create()
        .creatingParentsIfNeeded()
        .forPath("/ringwork/old/config", old.getBytes(StandardCharsets.UTF_8));
    assertThat(GroupStatus.storedRouter(zk.client(), "/ringwork/old")).isEmpty();
    Rebalancer r = worker("old", "w1", KeyRouter.upTo('/'));
    assertThat(r.awaitStable(STABLE)).isTrue();
  }

  @Test
  void memberWithAnotherRouter_isRefusedNamingBoth() throws Exception {
    assertThat(worker("mixed", "w1", KeyRouter.upTo('/')).awaitStable(STABLE)).isTrue();
    assertThatThrownBy(() -> worker("mixed", "w2", null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("router is up-to:/ in the group but whole-key here");
  }

  @Test
  void storedRouter_noConfig_namesThePath() {
    assertThatThrownBy(() -> GroupStatus.storedRouter(zk.client(), "/ringwork/none"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/ringwork/none/config");
  }
}
