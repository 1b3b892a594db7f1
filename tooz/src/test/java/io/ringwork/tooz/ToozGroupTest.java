package io.ringwork.tooz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ringwork.membership.GroupAccessException;
import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The tooz group layout against a real server (the Python side is tested in the simulator). */
final class ToozGroupTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private CuratorFramework client;

  private CuratorFramework client() {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .sessionTimeoutMs(3000)
            .retryPolicy(new ExponentialBackoffRetry(50, 10, 500))
            .ensembleTracker(false)
            .build();
    c.start();
    return c;
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.close();
    }
  }

  @Test
  void weight_encodesExactlyAsTooz() {
    // docs/tooz.md, section 2
    Map<Integer, String> expected =
        Map.of(
            1, "81a677656967687401",
            2, "81a677656967687402",
            127, "81a67765696768747f",
            128, "81a6776569676874cc80",
            1000, "81a6776569676874cd03e8",
            70000, "81a6776569676874ce00011170");
    expected.forEach(
        (w, hex) -> assertThat(HexFormat.of().formatHex(ToozData.weight(w))).isEqualTo(hex));
    assertThatThrownBy(() -> ToozData.weight(0)).hasMessageContaining("positive");
  }

  @Test
  void decode_everyCaseOfTheSpec() {
    // docs/tooz.md, section 3: what Python makes of each
    assertThat(decode("81a677656967687402").weight()).isEqualTo(2);
    assertThat(decode("82a677656967687402a47a6f6e65a161").weight()).isEqualTo(2);
    assertThat(decode("81a6776569676874cf0000000000000002").weight()).isEqualTo(2);
    assertThat(decode("83a677656967687402a47a6f6e65a161a178920102").weight()).isEqualTo(2);
    ToozData.Decoded bin = decode("81c40677656967687402");
    assertThat(bin.readable()).isTrue();
    assertThat(bin.weight()).isEqualTo(1);
    assertThat(bin.note()).contains("bin key");
    assertThat(decode("").problem()).contains("empty");
    assertThat(decode("7b22776569676874223a20327d").problem()).contains("extra data");
    assertThat(decode("3132372e302e302e31").problem()).contains("extra data");
    assertThat(decode("81a6776569676874cb4000000000000000").problem()).contains("float");
    assertThat(decode("81a6776569676874a132").problem()).contains("string");
    assertThat(decode("81a677656967687400").problem()).contains("weight 0");
    assertThat(decode("81a6776569676874ff").problem()).contains("weight -1");
    assertThat(decode("05").problem()).contains("not a map");
    assertThat(decode("c0").problem()).contains("not a map");
    assertThat(decode("c400").problem()).contains("not a map");
    assertThat(decode("820102a677656967687402").problem()).contains("map key");
  }

  @Test
  void decode_whatPythonRefusesAnywhere_andBooleanAndHugeWeights() {
    // a str key that is not UTF-8, a nested int key, a str value that is not UTF-8
    assertThat(decode("81a2fffe01").problem()).contains("UTF-8");
    assertThat(decode("82a677656967687402a17881" + "0102").problem()).contains("map key");
    assertThat(decode("82a677656967687402a178a1ff").problem()).contains("UTF-8");
    ToozData.Decoded yes = decode("81a6776569676874c3");
    assertThat(yes.weight()).isEqualTo(1);
    assertThat(yes.note()).contains("boolean");
    assertThat(decode("81a6776569676874c2").problem()).contains("weight 0");
    assertThat(decode("81a6776569676874ce7fffffff").problem()).contains("above");
  }

  private static ToozData.Decoded decode(String hex) {
    return ToozData.decode(HexFormat.of().parseHex(hex));
  }

  @Test
  void join_writesTheToozLayout_persistentParents_andLeaves() throws Exception {
    client = client();
    ToozGroup g =
        ToozGroup.newBuilder().client(client).group("central").memberId("java-1").weight(2).build();
    g.start();
    Stat ns = client.checkExists().forPath("/tooz");
    Stat group = client.checkExists().forPath("/tooz/central");
    Stat member = new Stat();
    byte[] data = client.getData().storingStatIn(member).forPath("/tooz/central/java-1");
    assertThat(ns.getEphemeralOwner()).isZero();
    assertThat(group.getEphemeralOwner()).isZero();
    assertThat(client.getData().forPath("/tooz/central")).isEmpty();
    assertThat(member.getEphemeralOwner()).isNotZero();
    assertThat(HexFormat.of().formatHex(data)).isEqualTo("81a677656967687402");
    assertThat(client.getChildren().forPath("/tooz/central")).containsExactly("java-1");
    assertThat(g.snapshot().members()).extracting(ToozGroup.Child::id).containsExactly("java-1");
    g.close();
    assertThat(client.checkExists().forPath("/tooz/central/java-1")).isNull();
    assertThat(client.checkExists().forPath("/tooz/central")).as("kept, as tooz").isNotNull();
  }

  @Test
  void badIds_refusedUpFront() {
    client = client();
    assertThatThrownBy(
            () -> ToozGroup.newBuilder().client(client).group("g").memberId("a/b").build())
        .hasMessageContaining("'/'");
    assertThatThrownBy(
            () -> ToozGroup.newBuilder().client(client).group("g").memberId("jäva").build())
        .hasMessageContaining("ASCII");
    assertThatThrownBy(
            () -> ToozGroup.newBuilder().client(client).group("g").memberId("leader").build())
        .hasMessageContaining("leader");
    assertThatThrownBy(() -> ToozGroup.newBuilder().client(client).group("locks").build())
        .hasMessageContaining("locks");
    assertThatThrownBy(
            () -> ToozGroup.newBuilder().client(client).group("g").memberId("x").weight(0).build())
        .hasMessageContaining("positive");
  }

  @Test
  void badChildren_flagged_notFatal() throws Exception {
    client = client();
    ToozGroup g = ToozGroup.newBuilder().client(client).group("g").memberId("java-1").build();
    g.start();
    Map<String, String> bad =
        Map.of(
            "empty", "",
            "json", "7b22776569676874223a20327d",
            "ip", "3132372e302e302e31",
            "float", "81a6776569676874cb4000000000000000",
            "text", "81a6776569676874a132",
            "zero", "81a677656967687400",
            "nil", "c0",
            "intkey", "820102a677656967687402");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      client
          .create()
          .withMode(CreateMode.EPHEMERAL)
          .forPath("/tooz/g/" + e.getKey(), HexFormat.of().parseHex(e.getValue()));
    }
    client.create().withMode(CreateMode.EPHEMERAL).forPath("/tooz/g/jäva-1", ToozData.weight(1));
    client.create().withMode(CreateMode.PERSISTENT).forPath("/tooz/g/zombie", ToozData.weight(1));
    client.create().withMode(CreateMode.PERSISTENT).forPath("/tooz/g/leader");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(g.snapshot().problems())
                    .extracting(ToozGroup.Child::id)
                    .containsExactlyInAnyOrder(
                        "empty", "json", "ip", "float", "text", "zero", "nil", "intkey", "jäva-1",
                        "zombie", "leader"));
    assertThat(g.snapshot().members())
        .as("what tooz builds its ring from: the zombie counts")
        .extracting(ToozGroup.Child::id)
        .containsExactly("java-1", "zombie");
    assertThat(
            g.snapshot().problems().stream()
                .filter(c -> c.id().equals("jäva-1"))
                .findFirst()
                .orElseThrow()
                .flag())
        .contains("UnicodeEncodeError");
    g.close();
    for (String p : List.of("zombie", "leader")) {
      client.delete().forPath("/tooz/g/" + p);
    }
    for (String p : bad.keySet()) {
      client.delete().forPath("/tooz/g/" + p);
    }
    client.delete().forPath("/tooz/g/jäva-1");
  }

  @Test
  void listeners_aThrowingOneNeitherStopsTheOthersNorLeavesTheThreadInterrupted() throws Exception {
    client = client();
    ToozGroup g = ToozGroup.newBuilder().client(client).group("g").memberId("java-1").build();
    java.util.List<Boolean> interruptedSeen = new java.util.concurrent.CopyOnWriteArrayList<>();
    g.onChange(
        s -> {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("listener failure on purpose");
        });
    g.onChange(s -> interruptedSeen.add(Thread.currentThread().isInterrupted()));
    g.start();
    ToozGroup other = ToozGroup.newBuilder().client(client).group("g").memberId("java-2").build();
    other.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> interruptedSeen.size() >= 2);
    assertThat(interruptedSeen).containsOnly(false);
    other.close();
    g.close();
  }

  @Test
  void sessionExpired_rejoinsByItself() throws Exception {
    client = client();
    ToozGroup g = ToozGroup.newBuilder().client(client).group("g").memberId("java-1").build();
    g.start();
    long before = client.getZookeeperClient().getZooKeeper().getSessionId();
    RingworkZooKeeper.expire(client);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              Stat s = client.checkExists().forPath("/tooz/g/java-1");
              assertThat(s).isNotNull();
              assertThat(s.getEphemeralOwner()).isNotEqualTo(before);
            });
    await().atMost(Duration.ofSeconds(5)).until(g::joined);
    g.close();
  }

  @Test
  void idTakenByAnotherSession_refused() throws Exception {
    client = client();
    ToozGroup a = ToozGroup.newBuilder().client(client).group("g").memberId("dup").build();
    a.start();
    try (CuratorFramework other = client()) {
      ToozGroup b = ToozGroup.newBuilder().client(other).group("g").memberId("dup").build();
      assertThatThrownBy(b::start).hasMessageContaining("taken");
      b.close();
    }
    assertThat(a.joined()).isTrue();
    a.close();
  }

  @Test
  void start_zooKeeperRefuses_throwsGroupAccessExceptionNamingTheGroup() throws Exception {
    client = client();
    // Anyone may read the group, only "svc" create in it; this client has not authenticated.
    List<ACL> acl = new ArrayList<>(ToozGroup.digestAcl("svc:s3cret"));
    acl.add(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
    client.create().forPath("/tooz");
    client.create().withACL(acl).forPath("/tooz/g");
    ToozGroup g = ToozGroup.newBuilder().client(client).group("g").memberId("anon").build();
    assertThatThrownBy(g::start)
        .isInstanceOf(GroupAccessException.class)
        .hasMessageContaining("/tooz/g")
        .hasMessageContaining("NoAuth")
        .hasCauseInstanceOf(KeeperException.NoAuthException.class);
    assertThat(client.checkExists().forPath("/tooz/g/anon")).isNull();
  }

  @Test
  void read_zooKeeperRefuses_throwsGroupAccessExceptionNamingTheGroup() throws Exception {
    client = client();
    client.create().creatingParentsIfNeeded().forPath("/tooz/g");
    // A child only "svc" may read; this client has not authenticated.
    client.create().withACL(ToozGroup.digestAcl("svc:s3cret")).forPath("/tooz/g/x");
    assertThatThrownBy(() -> ToozGroup.read(client, "tooz", "g"))
        .isInstanceOf(GroupAccessException.class)
        .hasMessageContaining("/tooz/g")
        .hasCauseInstanceOf(KeeperException.NoAuthException.class);
    client.delete().forPath("/tooz/g/x"); // the leak check must be able to read the tree
  }

  @Test
  void connectionBlips_doNotMultiplyTheGroupsWatcher() throws Exception {
    client = client();
    ToozGroup g = ToozGroup.newBuilder().client(client).group("g").memberId("java-1").build();
    g.start();
    for (int i = 0; i < 3; i++) {
      zk.restartServer();
      client.blockUntilConnected(20, TimeUnit.SECONDS);
    }
    await().atMost(Duration.ofSeconds(10)).until(g::joined);
    // Let the reconnections' reloads finish: until no read happened for a whole second (a fixed
    // 500 ms was not enough under load: a late reload was counted against the change, 2 of 9 loop
    // runs). A multiplied watcher still shows: four watchers read four times per change.
    long quiet = System.nanoTime();
    long seen = g.reloads.get();
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() - quiet < TimeUnit.SECONDS.toNanos(1) && System.nanoTime() < giveUp) {
      Thread.sleep(50);
      long now = g.reloads.get();
      if (now != seen) {
        seen = now;
        quiet = System.nanoTime();
      }
    }
    long before = g.reloads.get();
    client.create().withMode(CreateMode.EPHEMERAL).forPath("/tooz/g/other", ToozData.weight(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> g.snapshot().members().size() == 2);
    Thread.sleep(300);
    assertThat(g.reloads.get() - before)
        .as("reads of the group for one change")
        .isLessThanOrEqualTo(2);
    client.delete().forPath("/tooz/g/other");
    g.close();
  }

  @Test
  void idTakenOverByAnotherProcess_isNotClaimed() throws Exception {
    client = client();
    ToozGroup g = ToozGroup.newBuilder().client(client).group("g").memberId("java-1").build();
    g.start();
    try (CuratorFramework other = client()) {
      // Another process deletes our node and takes the id in one transaction.
      other
          .transaction()
          .forOperations(
              other.transactionOp().delete().forPath("/tooz/g/java-1"),
              other
                  .transactionOp()
                  .create()
                  .withMode(CreateMode.EPHEMERAL)
                  .forPath("/tooz/g/java-1", ToozData.weight(1)));
      await().atMost(Duration.ofSeconds(10)).until(() -> g.conflict() != null);
      assertThat(g.joined()).isFalse();
      assertThat(g.conflict()).contains("another process");
    }
    // Once it goes, this member joins again.
    await().atMost(Duration.ofSeconds(10)).until(g::joined);
    assertThat(g.conflict()).isNull();
    g.close();
  }
}
