package io.ringwork.simulator.tooz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.test.RingworkZooKeeper;
import io.ringwork.tooz.ToozElection;
import io.ringwork.tooz.ToozGroup;
import io.ringwork.tooz.ToozLock;
import io.ringwork.tooz.ToozLocks;
import io.ringwork.tooz.ToozPartitioner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Java members, locks and elections against real OpenStack tooz (Debian's python3-tooz, driven
 * through {@code tooz_peer.py}) on one real ZooKeeper server: the facts of {@code docs/tooz.md},
 * checked live.
 */
final class ToozInteropTest {

  private TestingServer server;
  private final List<AutoCloseable> open = new ArrayList<>();
  @TempDir Path dir;

  @BeforeAll
  static void tooz() throws Exception {
    ToozPeer.requireTooz();
  }

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 500, -1), true);
  }

  @AfterEach
  void stop() throws Exception {
    Collections.reverse(open);
    for (AutoCloseable c : open) {
      try {
        c.close();
      } catch (Exception e) {
        // best effort
      }
    }
    server.close();
  }

  private <T extends AutoCloseable> T track(T c) {
    open.add(c);
    return c;
  }

  private CuratorFramework client() throws InterruptedException {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(server.getConnectString())
            .sessionTimeoutMs(4000)
            .retryPolicy(new ExponentialBackoffRetry(50, 10, 500))
            .ensembleTracker(false)
            .build();
    c.start();
    c.blockUntilConnected(10, TimeUnit.SECONDS);
    return track(c);
  }

  private ToozPeer member(String id, int weight) throws Exception {
    return track(ToozPeer.member(server.getConnectString(), "central", id, weight));
  }

  private static void awaitRing(ToozPeer p, Map<String, Integer> expected) throws Exception {
    p.awaitRing(expected);
  }

  private static List<String> keys(int n) {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      keys.add("node-" + i);
    }
    keys.add("nœud-é"); // hashed as UTF-8 on both sides
    keys.add("stack-7/nested-2");
    return keys;
  }

  /** Asks a Python member for the owners of every key and compares with the Java partitioner. */
  private static void assertAgree(
      ToozPeer python, ToozPartitioner java, Path keysFile, List<String> keys, int replicas)
      throws Exception {
    python.send("lookup " + replicas + " " + keysFile);
    JsonNode answer = python.await("lookup", 30);
    JsonNode owners = answer.path("owners");
    int disagree = 0;
    List<String> samples = new ArrayList<>();
    for (String k : keys) {
      TreeSet<String> py = new TreeSet<>();
      owners.path(k).forEach(o -> py.add(o.asText()));
      TreeSet<String> jv = new TreeSet<>(java.membersForObject(k, replicas));
      if (!py.equals(jv)) {
        disagree++;
        if (samples.size() < 5) {
          samples.add(k + ": python " + py + ", java " + jv);
        }
      }
    }
    assertThat(disagree).as("keys on which Java and Python disagree: " + samples).isZero();
    assertThat(owners.size()).isEqualTo(keys.size());
  }

  @Test
  void partitioner_javaAndPythonMembers_agreeOnEveryKey_weights121_replicas1And2_andAfterALeave()
      throws Exception {
    ToozPeer c1 = member("conductor-1", 1);
    CuratorFramework client = client();
    ToozPartitioner java =
        track(
            ToozPartitioner.newBuilder()
                .client(client)
                .group("central")
                .memberId("conductor-2")
                .weight(2)
                .pointsPerWeight(32)
                .build());
    long joined = System.nanoTime();
    java.start();
    // How long a polling Python member takes to see a Java join (it polls every 100 ms here).
    awaitRing(c1, Map.of("conductor-1", 1, "conductor-2", 2));
    long seenMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joined);
    System.out.println(
        "tooz interop: a Java join appeared in a polling Python ring after "
            + seenMs
            + " ms (100 ms polls)");
    ToozPeer c3 = member("conductor-3", 1);
    Map<String, Integer> all = Map.of("conductor-1", 1, "conductor-2", 2, "conductor-3", 1);
    awaitRing(c1, all);
    awaitRing(c3, all);
    await().atMost(Duration.ofSeconds(10)).until(() -> java.snapshot().members().size() == 3);
    // The test vectors of docs/tooz.md, section 5.4.
    assertThat(java.membersForObject("node-0", 1)).containsExactly("conductor-2");
    assertThat(java.membersForObject("node-1", 1)).containsExactly("conductor-1");
    assertThat(java.membersForObject("node-14", 1)).containsExactly("conductor-3");
    assertThat(java.membersForObject("node-4", 2)).containsExactly("conductor-2", "conductor-3");
    List<String> keys = keys(1000);
    Path file = ToozPeer.keysFile(dir, keys);
    for (int replicas : List.of(1, 2)) {
      assertAgree(c1, java, file, keys, replicas);
      assertAgree(c3, java, file, keys, replicas);
    }
    // belongs_to_self: each side claims exactly what the shared ring gives it.
    c1.send("lookup 1 " + file);
    JsonNode answer = c1.await("lookup", 30);
    TreeSet<String> c1Belongs = new TreeSet<>();
    answer.path("belongs").forEach(b -> c1Belongs.add(b.asText()));
    TreeSet<String> javaSays = new TreeSet<>();
    for (String k : keys) {
      if (java.membersForObject(k, 1).contains("conductor-1")) {
        javaSays.add(k);
      }
    }
    assertThat(c1Belongs).isEqualTo(javaSays);
    assertThat(keys.stream().filter(java::belongsToSelf).count()).isGreaterThan(300);
    // A member leaves: once both have seen it, they agree again.
    c3.send("leave");
    c3.await("left", 30);
    await().atMost(Duration.ofSeconds(10)).until(() -> java.snapshot().members().size() == 2);
    awaitRing(c1, Map.of("conductor-1", 1, "conductor-2", 2));
    for (int replicas : List.of(1, 2)) {
      assertAgree(c1, java, file, keys, replicas);
    }
  }

  @Test
  void javaMember_rejoinsAfterItsSessionExpires_whilePythonKeepsWorking() throws Exception {
    ToozPeer py = member("py-1", 1);
    CuratorFramework client = client();
    ToozPartitioner java =
        track(
            ToozPartitioner.newBuilder()
                .client(client)
                .group("central")
                .memberId("java-1")
                .build());
    java.start();
    awaitRing(py, Map.of("py-1", 1, "java-1", 1));
    long before = client.getZookeeperClient().getZooKeeper().getSessionId();
    RingworkZooKeeper.expire(client);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              var s = client.checkExists().forPath("/tooz/central/java-1");
              assertThat(s).isNotNull();
              assertThat(s.getEphemeralOwner())
                  .as("rejoined in its own new session")
                  .isNotEqualTo(before)
                  .isEqualTo(client.getZookeeperClient().getZooKeeper().getSessionId());
            });
    // The Python member never failed and sees the Java member in its ring again.
    awaitRing(py, Map.of("py-1", 1, "java-1", 1));
    List<String> keys = keys(200);
    Path file = ToozPeer.keysFile(dir, keys);
    assertAgree(py, java, file, keys, 1);
  }

  @Test
  void badChild_freezesPythonMembers_andJavaFlagsIt() throws Exception {
    ToozPeer py = member("py-1", 1);
    CuratorFramework client = client();
    ToozPartitioner java =
        track(
            ToozPartitioner.newBuilder()
                .client(client)
                .group("central")
                .memberId("java-1")
                .build());
    java.start();
    awaitRing(py, Map.of("py-1", 1, "java-1", 1));
    // What Curator writes by default (the local IP address) is not msgpack.
    client
        .create()
        .withMode(CreateMode.EPHEMERAL)
        .forPath("/tooz/central/curator-default", "127.0.0.1".getBytes());
    py.send("poll");
    JsonNode answer = py.await(n -> !n.path("event").asText().isEmpty(), 10, "poll answer");
    assertThat(answer.path("event").asText()).isEqualTo("error");
    assertThat(answer.path("error").asText()).contains("SerializationError");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(java.snapshot().problems())
                    .extracting(ToozGroup.Child::id)
                    .containsExactly("curator-default"));
    assertThat(java.snapshot().members())
        .extracting(ToozGroup.Child::id)
        .containsExactly("java-1", "py-1");
    client.delete().forPath("/tooz/central/curator-default");
    awaitRing(py, Map.of("py-1", 1, "java-1", 1)); // removed: Python works again
  }

  @Test
  void credentials_javaAndPythonShareAnAclProtectedGroup_anonymousIsRefused() throws Exception {
    ToozPeer py =
        track(
            ToozPeer.start(
                "py-auth",
                server.getConnectString(),
                "member",
                "--auth",
                "svc:s3cret",
                "--group",
                "secure",
                "--id",
                "py-1",
                "--weight",
                "1"));
    py.await("joined", 30);
    CuratorFramework authed =
        track(
            CuratorFrameworkFactory.builder()
                .connectString(server.getConnectString())
                .sessionTimeoutMs(4000)
                .retryPolicy(new ExponentialBackoffRetry(50, 10, 500))
                .authorization("digest", "svc:s3cret".getBytes(StandardCharsets.UTF_8))
                .build());
    authed.start();
    authed.blockUntilConnected(10, TimeUnit.SECONDS);
    ToozPartitioner java =
        track(
            ToozPartitioner.newBuilder()
                .client(authed)
                .group("secure")
                .memberId("java-1")
                .credentials("svc:s3cret")
                .build());
    java.start();
    awaitRing(py, Map.of("py-1", 1, "java-1", 1));
    await().atMost(Duration.ofSeconds(10)).until(() -> java.snapshot().members().size() == 2);
    // tooz's single digest ACL (docs/tooz.md, section 4) on the Java node.
    List<ACL> acl = authed.getACL().forPath("/tooz/secure/java-1");
    assertThat(acl)
        .containsExactly(
            new ACL(ZooDefs.Perms.ALL, new Id("digest", "svc:bw/30Jpl6p+hTBwuT87W+KiwPJ0=")));
    CuratorFramework anonymous = client();
    assertThatThrownBy(() -> anonymous.getData().forPath("/tooz/secure/java-1"))
        .isInstanceOf(KeeperException.NoAuthException.class);
    ToozLocks locks =
        track(
            ToozLocks.newBuilder()
                .client(authed)
                .memberId("java-1")
                .credentials("svc:s3cret")
                .build());
    try (ToozLock l = locks.acquire("secret-lock", LockMode.EXCLUSIVE, Duration.ofSeconds(5))) {
      assertThat(authed.getACL().forPath(l.path())).isEqualTo(acl);
      assertThat(authed.getACL().forPath("/tooz/locks/secret-lock")).isEqualTo(acl);
    }
  }

  private record Hold(String who, long start, long end) {}

  @Test
  void locks_javaAndPythonContenders_neverOverlap() throws Exception {
    int perContender = 250;
    long testStart = System.nanoTime();
    List<ToozPeer> pythons = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      ToozPeer p =
          track(
              ToozPeer.start(
                  "py-lock-" + i,
                  server.getConnectString(),
                  "lock-stress",
                  "--name",
                  "volume-42",
                  "--id",
                  "py-" + i,
                  "--count",
                  Integer.toString(perContender),
                  "--hold-ms",
                  "0.2"));
      pythons.add(p);
    }
    for (ToozPeer p : pythons) {
      p.await("ready", 30);
    }
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Future<List<Hold>>> javas = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      String id = "java-" + i;
      CuratorFramework c = client();
      ToozLocks locks = track(ToozLocks.newBuilder().client(c).memberId(id).build());
      javas.add(
          pool.submit(
              () -> {
                List<Hold> holds = new ArrayList<>();
                long lastToken = 0;
                for (int n = 0; n < perContender; n++) {
                  try (ToozLock l =
                      locks.acquire("volume-42", LockMode.EXCLUSIVE, Duration.ofSeconds(30))) {
                    long start = System.nanoTime();
                    assertThat(l.token()).isGreaterThan(lastToken);
                    lastToken = l.token();
                    Thread.sleep(0, 200_000);
                    holds.add(new Hold(id, start, System.nanoTime()));
                  }
                }
                return holds;
              }));
    }
    List<Hold> all = new ArrayList<>();
    for (Future<List<Hold>> f : javas) {
      all.addAll(f.get(120, TimeUnit.SECONDS));
    }
    pool.shutdown();
    for (ToozPeer p : pythons) {
      List<JsonNode> events = p.collectUntil("done", 120);
      for (JsonNode n : events) {
        if (n.path("event").asText().equals("hold")) {
          all.add(
              new Hold(n.path("id").asText(), n.path("start").asLong(), n.path("end").asLong()));
        }
      }
      assertThat(events.get(events.size() - 1).path("count").asInt()).isEqualTo(perContender);
    }
    // Python's time.monotonic_ns() and Java's nanoTime() are one clock (CLOCK_MONOTONIC), or the
    // overlap check below would mean nothing.
    long now = System.nanoTime();
    assertThat(all).allSatisfy(h -> assertThat(h.start()).isBetween(testStart, now));
    all.sort(Comparator.comparingLong(Hold::start));
    int overlaps = 0;
    for (int i = 1; i < all.size(); i++) {
      if (all.get(i).start() < all.get(i - 1).end()) {
        overlaps++;
      }
    }
    assertThat(all).hasSizeGreaterThanOrEqualTo(4 * perContender);
    assertThat(overlaps).as("overlapping holds of one tooz lock, Java and Python").isZero();
  }

  @Test
  void sharedJavaHolders_excludedByAToozHolder_andExcludeIt() throws Exception {
    CuratorFramework c1 = client();
    CuratorFramework c2 = client();
    ToozLocks a = track(ToozLocks.newBuilder().client(c1).memberId("java-a").build());
    ToozLocks b = track(ToozLocks.newBuilder().client(c2).memberId("java-b").build());
    ToozPeer py =
        track(
            ToozPeer.start(
                "py-hold", server.getConnectString(), "lock-hold", "--name", "L", "--id", "py"));
    assertThat(py.await("acquired", 30).path("ok").asBoolean()).isTrue();
    assertThat(a.tryAcquire("L", LockMode.SHARED)).as("a reader while tooz holds").isEmpty();
    py.send("release");
    py.await("released", 30);
    ToozLock ra = a.acquire("L", LockMode.SHARED, Duration.ofSeconds(10));
    ToozLock rb = b.acquire("L", LockMode.SHARED, Duration.ofSeconds(10));
    assertThat(ra.state()).isEqualTo(LockState.HELD);
    assertThat(rb.state()).isEqualTo(LockState.HELD);
    ToozPeer py2 =
        track(
            ToozPeer.start(
                "py-try", server.getConnectString(), "lock-hold", "--name", "L", "--id", "py2"));
    assertThat(py2.await("acquired", 30).path("ok").asBoolean())
        .as("tooz while Java readers hold")
        .isFalse();
    py2.close();
    ra.release();
    rb.release();
    ToozPeer py3 =
        track(
            ToozPeer.start(
                "py-try2", server.getConnectString(), "lock-hold", "--name", "L", "--id", "py3"));
    assertThat(py3.await("acquired", 30).path("ok").asBoolean()).isTrue();
    assertThat(b.tryAcquire("L", LockMode.EXCLUSIVE)).isEmpty();
    py3.send("release");
    py3.await("released", 30);
    assertThat(b.tryAcquire("L", LockMode.EXCLUSIVE)).isPresent();
  }

  @Test
  void election_withAToozContender() throws Exception {
    CuratorFramework c = client();
    CountDownLatch elected = new CountDownLatch(1);
    ToozElection java =
        track(
            ToozElection.newBuilder()
                .client(c)
                .group("elect")
                .memberId("java-1")
                .onElected(l -> elected.countDown())
                .build());
    java.start();
    assertThat(elected.await(10, TimeUnit.SECONDS)).isTrue();
    ToozPeer py =
        track(
            ToozPeer.start(
                "py-elect",
                server.getConnectString(),
                "elect",
                "--group",
                "elect",
                "--id",
                "py-1"));
    py.await("ready", 30);
    py.send("leader?");
    assertThat(py.await("leader", 10).path("leader").asText()).isEqualTo("java-1");
    assertThat(py.poll(1500)).as("tooz elects nobody while Java leads").isNull();
    assertThat(ToozElection.leader(c, "tooz", "elect")).contains("java-1");
    java.standDown();
    JsonNode e = py.await("elected", 10);
    assertThat(e.path("id").asText()).isEqualTo("py-1");
    assertThat(java.isLeader()).isFalse();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> ToozElection.leader(c, "tooz", "elect").equals(Optional.of("py-1")));
  }
}
