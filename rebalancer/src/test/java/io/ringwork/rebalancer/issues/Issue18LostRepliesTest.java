package io.ringwork.rebalancer.issues;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.membership.FaultProxy;
import io.ringwork.membership.LostReplyZooKeeper;
import io.ringwork.membership.LostReplyZooKeeper.Call;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.ring.Strategy;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 18, cases 6 and 7 (rebalancer side): writes the server applied while the client saw
 * ConnectionLoss ({@link LostReplyZooKeeper} loses exactly one reply, Curator retries as for any
 * ConnectionLoss), and a member id re-created on a caller's client while the previous instance's
 * deferred deletes are still pending.
 */
final class Issue18LostRepliesTest {

  private static final int P = 64;
  private static final String ROOT = "/ringwork/g";
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final LostReplyZooKeeper.Factory lost = LostReplyZooKeeper.factory();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private static Duration w(long millis) {
    return RingworkZooKeeper.scaled(Duration.ofMillis(millis));
  }

  /** A caller's client whose handle loses or refuses what {@link #lost} is armed for. */
  private CuratorFramework lossyClient(String connectString) throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(connectString)
            .zookeeperFactory(lost)
            .sessionTimeoutMs(4000)
            .connectionTimeoutMs(2000)
            .retryPolicy(new ExponentialBackoffRetry(50, 2, 200))
            .ensembleTracker(false)
            .build();
    c.start();
    assertThat(c.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
    open.add(0, c);
    return c;
  }

  private Rebalancer worker(String id, CuratorFramework curator) {
    var b =
        Rebalancer.newBuilder()
            .group("g")
            .member(Member.of(id))
            .strategy(Strategy.BALANCED)
            .partitions(P)
            .settleDelay(Duration.ofMillis(50))
            .revokeDeadline(Duration.ofSeconds(1))
            .metrics(new MetricRegistry());
    if (curator != null) {
      b.curator(curator);
    } else {
      b.connectString(zk.connectString()).sessionTimeout(Duration.ofSeconds(4));
    }
    Rebalancer r = b.build();
    open.add(0, r);
    r.start();
    return r;
  }

  @Test
  void snapshotPublish_headerReplyLost_chunksItNamesStay_groupSettles() throws Exception {
    // The first publish is a snapshot: chunks first, then the header. Lose the header's reply.
    lost.loseReply(Call.MULTI, path -> path.equals(ROOT + "/assignment"));
    Rebalancer a = worker("a", lossyClient(zk.connectString()));

    assertThat(a.awaitStable(w(20_000))).as("a stable").isTrue();
    assertThat(lost.lost()).as("replies lost").isEqualTo(1);
    assertChunksOfTheHeaderExist();
    Rebalancer b = worker("b", null);
    assertThat(b.awaitStable(w(20_000))).as("joiner b stable").isTrue();
    assertThat(a.awaitStable(w(20_000))).as("a stable after the join").isTrue();
    assertThat(a.ownedPartitions().size() + b.ownedPartitions().size()).isEqualTo(P);
  }

  private void assertChunksOfTheHeaderExist() throws Exception {
    JsonNode header = JSON.readTree(zk.client().getData().forPath(ROOT + "/assignment"));
    String base = String.format(Locale.ROOT, "base-%019d", header.path("base").asLong());
    String tag = header.path("tag").asText();
    List<String> data = zk.client().getChildren().forPath(ROOT + "/assignment-data");
    for (int i = 0; i < header.path("chunks").asInt(); i++) {
      String chunk =
          base + (tag.isEmpty() ? "" : "-" + tag) + String.format(Locale.ROOT, "-%04d", i);
      assertThat(data).as("chunks named by the committed header %s", header).contains(chunk);
    }
  }

  @Test
  void sameIdRecreatedOnTheCallersClient_oldInstancesDeferredDeletes_leaveTheNewOneIn()
      throws Exception {
    try (FaultProxy proxy = FaultProxy.to(zk.connectString())) {
      CuratorFramework c = lossyClient(proxy.connectString());
      long session = c.getZookeeperClient().getZooKeeper().getSessionId();
      Rebalancer first = worker("a", c);
      Rebalancer b = worker("b", null);
      assertThat(first.awaitStable(w(20_000))).as("a stable").isTrue();
      assertThat(b.awaitStable(w(20_000))).as("b stable").isTrue();

      // The first instance closes while its connection fails it: its deletes are deferred to the
      // next connection of the (still live) session.
      String member = ROOT + "/members/a";
      String ack = ROOT + "/acks/a";
      lost.refuse(Call.EXISTS, path -> path.equals(member) || path.equals(ack), Integer.MAX_VALUE);
      first.close();
      lost.disarm();
      assertThat(lost.refused()).as("checks refused while closing").isPositive();
      assertThat(zk.client().checkExists().forPath(member)).as("old member node").isNotNull();

      // The same id again on the same client and session.
      Rebalancer second = worker("a", c);
      assertThat(second.awaitStable(w(20_000))).as("new a stable").isTrue();
      // Now the connection comes back in the same session: the deferred deletes run.
      proxy.cut();
      await().atMost(w(10_000)).until(() -> c.getZookeeperClient().isConnected());
      await()
          .during(w(2000))
          .atMost(w(10_000))
          .untilAsserted(
              () -> {
                Stat m = zk.client().checkExists().forPath(member);
                Stat k = zk.client().checkExists().forPath(ack);
                assertThat(m).as("member node of the new instance").isNotNull();
                assertThat(m.getEphemeralOwner()).isEqualTo(session);
                assertThat(k).as("acknowledgement of the new instance").isNotNull();
                assertThat(k.getEphemeralOwner()).isEqualTo(session);
              });
      // The group still settles on changes: a joiner gets in.
      Rebalancer d = worker("d", null);
      assertThat(d.awaitStable(w(20_000))).as("joiner d stable").isTrue();
      assertThat(second.awaitStable(w(20_000))).as("new a stable after the join").isTrue();
      assertThat(second.ownedPartitions()).isNotEmpty();
    }
  }
}
