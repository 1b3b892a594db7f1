package io.ringwork.tooz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.ring.Member;
import io.ringwork.ring.ToozRing;
import io.ringwork.test.RingworkZooKeeper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * tooz's Partitioner in Java against a real server, Java members only (Java against Python is
 * {@code ToozInteropTest} in the simulator): the rules and vectors of {@code docs/tooz.md}, section
 * 5.
 */
final class ToozPartitionerTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private final List<AutoCloseable> open = new ArrayList<>();
  private final MetricRegistry metrics = new MetricRegistry();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private static Duration w(long millis) {
    return RingworkZooKeeper.scaled(Duration.ofMillis(millis));
  }

  private CuratorFramework client() throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .sessionTimeoutMs(4000)
            .retryPolicy(new ExponentialBackoffRetry(50, 10, 500))
            .ensembleTracker(false)
            .build();
    c.start();
    assertThat(c.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
    open.add(0, c);
    return c;
  }

  private ToozPartitioner member(String id, int weight) throws Exception {
    ToozPartitioner p =
        ToozPartitioner.newBuilder()
            .client(client())
            .group("central")
            .memberId(id)
            .weight(weight)
            .metrics(metrics)
            .build()
            .start();
    open.add(0, p);
    return p;
  }

  private long ringChanges(String id) {
    return metrics.counter("ringwork.tooz.central." + id + ".ringChanges").getCount();
  }

  private Object gauge(String id, String name) {
    return metrics.getGauges().get("ringwork.tooz.central." + id + "." + name).getValue();
  }

  @Test
  void threeWeightedMembers_agreeWithTheVectors_andSplitEveryKeyOnce() throws Exception {
    ToozPartitioner c1 = member("conductor-1", 1);
    ToozPartitioner c2 = member("conductor-2", 2);
    ToozPartitioner c3 = member("conductor-3", 1);
    List<ToozPartitioner> all = List.of(c1, c2, c3);
    for (ToozPartitioner p : all) {
      await().atMost(w(10_000)).until(() -> p.snapshot().members().size() == 3);
    }

    // docs/tooz.md, section 5.4: the same answers as Python's Partitioner gives.
    for (ToozPartitioner p : all) {
      assertThat(p.membersForObject("node-0")).containsExactly("conductor-2");
      assertThat(p.membersForObject("node-1")).containsExactly("conductor-1");
      assertThat(p.membersForObject("node-14")).containsExactly("conductor-3");
      assertThat(p.membersForObject("node-4", 2)).containsExactly("conductor-2", "conductor-3");
    }
    // Every key belongs to exactly one member with one replica, to two with two.
    int c2Keys = 0;
    for (int i = 0; i < 2000; i++) {
      String key = "resource-" + i;
      int owners = 0;
      int twoOwners = 0;
      for (ToozPartitioner p : all) {
        owners += p.belongsToSelf(key) ? 1 : 0;
        twoOwners += p.belongsToSelf(key, 2) ? 1 : 0;
      }
      assertThat(owners).as(key).isEqualTo(1);
      assertThat(twoOwners).as(key).isEqualTo(2);
      c2Keys += c2.belongsToSelf(key) ? 1 : 0;
    }
    // Weight 2 of 4: about half the keys (P = 32 points per unit of weight: a loose bound).
    assertThat(c2Keys).isBetween(600, 1400);
    assertThat(gauge("conductor-1", "members")).isEqualTo(3);
  }

  @Test
  void aMemberLeaves_theOthersRebuildTheRingOfTheRest() throws Exception {
    ToozPartitioner c1 = member("conductor-1", 1);
    ToozPartitioner c2 = member("conductor-2", 2);
    ToozPartitioner c3 = member("conductor-3", 1);
    await().atMost(w(10_000)).until(() -> c1.snapshot().members().size() == 3);
    long before = ringChanges("conductor-1");

    c3.close();

    await().atMost(w(10_000)).until(() -> c1.snapshot().members().size() == 2);
    assertThat(ringChanges("conductor-1")).isGreaterThan(before);
    ToozRing expected =
        ToozRing.of(List.of(Member.of("conductor-1", 1), Member.of("conductor-2", 2)), 32, 1);
    for (int i = 0; i < 500; i++) {
      String key = "node-" + i;
      assertThat(c1.membersForObject(key)).containsExactly(expected.primary(key).id());
    }
    assertThat(c1.membersForObject("node-14")).doesNotContain("conductor-3");
    assertThat(c2.ring().members()).extracting(Member::id).doesNotContain("conductor-3");
  }

  @Test
  void aChildPythonFailsOn_isFlaggedAndLeftOutOfTheRing() throws Exception {
    ToozPartitioner c1 = member("conductor-1", 1);
    ToozPartitioner c2 = member("conductor-2", 1);
    await().atMost(w(10_000)).until(() -> c1.snapshot().members().size() == 2);
    Set<String> before = c1.membersForObject("node-0", 2);
    long changes = ringChanges("conductor-1");

    // JSON data: every Python member's run_watchers() fails on it (docs/tooz.md, section 3).
    client()
        .create()
        .withMode(CreateMode.EPHEMERAL)
        .forPath("/tooz/central/json-member", "{\"weight\":1}".getBytes(StandardCharsets.UTF_8));

    await().atMost(w(10_000)).until(() -> c1.snapshot().problems().size() == 1);
    assertThat(c1.snapshot().problems().get(0).id()).isEqualTo("json-member");
    assertThat(gauge("conductor-1", "badChildren")).isEqualTo(1);
    assertThat(c1.snapshot().members()).extracting(ToozGroup.Child::id).hasSize(2);
    assertThat(ringChanges("conductor-1")).as("the ring did not change").isEqualTo(changes);
    assertThat(c1.membersForObject("node-0", 2)).isEqualTo(before);
    assertThat(c2.membersForObject("node-0", 3)).hasSize(2);
  }
}
