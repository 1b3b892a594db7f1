package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.ring.Member;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Group membership for the rebalancer over Curator: member node, views, leadership, sessions. */
final class MembershipSession implements GroupSession {

  private static final Logger log = LoggerFactory.getLogger(MembershipSession.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final CuratorFramework client;
  private final boolean ownsClient;
  private final String groupPath;
  private final Member self;
  private final ExecutorService thread;
  private volatile Events events;
  private volatile boolean joined;
  private volatile boolean draining;
  private volatile boolean closed;
  private CuratorCache members;
  private LeaderLatch latch;
  private long sessionId;
  private EmbeddedZooKeeper embedded;

  private MembershipSession(
      CuratorFramework client, boolean ownsClient, String groupPath, Member self) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.groupPath = groupPath;
    this.self = self;
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "ringwork-membership-" + self.id());
              t.setDaemon(true);
              return t;
            });
  }

  static MembershipSession create(RebalancerBuilder b) {
    String groupPath = b.namespace() + (b.namespace().equals("/") ? "" : "/") + b.group();
    if (b.client() != null) {
      return new MembershipSession(b.client(), false, groupPath, b.member());
    }
    EmbeddedZooKeeper server = b.embedded() ? EmbeddedZooKeeper.start(b.embeddedDataDir()) : null;
    int timeout = (int) b.sessionTimeout().toMillis();
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(server != null ? server.connectString() : b.connectString())
            .sessionTimeoutMs(timeout)
            .connectionTimeoutMs(Math.max(1000, timeout / 2))
            .retryPolicy(new ExponentialBackoffRetry(100, 10, 2000))
            .build();
    MembershipSession session = new MembershipSession(client, true, groupPath, b.member());
    session.embedded = server;
    return session;
  }

  @Override
  public void connect() {
    if (ownsClient) {
      client.start();
    }
    try {
      if (!client.blockUntilConnected(30, java.util.concurrent.TimeUnit.SECONDS)) {
        throw new IllegalStateException("could not connect to ZooKeeper within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting", e);
    }
  }

  @Override
  public void start(Events listener) {
    this.events = listener;
    client
        .getConnectionStateListenable()
        .addListener((c, state) -> thread.execute(() -> onState(state)));
    members = CuratorCache.build(client, groupPath + "/members");
    members
        .listenable()
        .addListener((type, oldData, data) -> thread.execute(() -> fire(Events::onView)));
    members.start();
    join();
    latch = new LeaderLatch(client, groupPath + "/leader", self.id());
    latch.addListener(
        new LeaderLatchListener() {
          @Override
          public void isLeader() {
            thread.execute(() -> fire(e -> e.onLeadership(true)));
          }

          @Override
          public void notLeader() {
            thread.execute(() -> fire(e -> e.onLeadership(false)));
          }
        });
    try {
      latch.start();
    } catch (Exception e) {
      throw new IllegalStateException("could not start leader election: " + e.getMessage(), e);
    }
  }

  private void onState(ConnectionState state) {
    if (closed) {
      return;
    }
    switch (state) {
      case SUSPENDED -> fire(Events::onSuspended);
      case LOST -> {
        joined = false;
        fire(Events::onLost);
      }
      case RECONNECTED -> {
        long now = currentSessionId();
        if (now != sessionId || !joined) {
          try {
            join();
          } catch (RuntimeException e) {
            log.error("could not rejoin group {} as {}", groupPath, self.id(), e);
          }
        } else {
          fire(Events::onResumed);
        }
        fire(Events::onView);
      }
      default -> {}
    }
  }

  private long currentSessionId() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return -1;
    }
  }

  private void join() {
    String path = memberPath();
    byte[] data = data();
    for (int attempt = 0; attempt < 3 && !closed; attempt++) {
      try {
        client
            .create()
            .creatingParentContainersIfNeeded()
            .withMode(CreateMode.EPHEMERAL)
            .forPath(path, data);
        sessionId = currentSessionId();
        joined = true;
        fire(Events::onView);
        return;
      } catch (KeeperException.NodeExistsException e) {
        try {
          Stat stat = client.checkExists().forPath(path);
          if (stat != null && stat.getEphemeralOwner() == currentSessionId()) {
            sessionId = currentSessionId();
            joined = true;
            return;
          }
          if (stat != null && sessionId != 0 && stat.getEphemeralOwner() == sessionId) {
            // Our own node from the session that expired: remove it and join afresh.
            client.delete().withVersion(stat.getVersion()).forPath(path);
            continue;
          }
          if (stat != null) {
            throw new IllegalStateException(
                "member id '" + self.id() + "' is already held by a live session at " + path);
          }
        } catch (IllegalStateException ise) {
          throw ise;
        } catch (Exception ex) {
          log.warn("could not inspect {}", path, ex);
        }
      } catch (Exception e) {
        log.warn("could not join as {}; retrying", path, e);
      }
    }
  }

  private byte[] data() {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", 1);
    node.put("weight", self.weight());
    self.zone().ifPresent(z -> node.put("zone", z));
    ArrayNode labels = node.putArray("labels");
    self.labels().forEach(labels::add);
    node.put("draining", draining);
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  private void fire(java.util.function.Consumer<Events> call) {
    Events e = events;
    if (e != null && !closed) {
      try {
        call.accept(e);
      } catch (RuntimeException ex) {
        log.error("membership event handler failed", ex);
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (latch != null) {
        latch.close(LeaderLatch.CloseMode.SILENT);
      }
    } catch (Exception e) {
      log.debug("leader latch close failed", e);
    }
    if (members != null) {
      members.close();
    }
    try {
      client.delete().quietly().forPath(memberPath());
    } catch (Exception e) {
      log.debug("could not delete {}", memberPath(), e);
    }
    thread.shutdownNow();
    if (ownsClient) {
      client.close();
    }
    if (embedded != null) {
      embedded.close();
    }
  }

  @Override
  public CuratorFramework client() {
    return client;
  }

  @Override
  public String groupPath() {
    return groupPath;
  }

  @Override
  public String selfId() {
    return self.id();
  }

  @Override
  public boolean joined() {
    return joined && client.getZookeeperClient().isConnected();
  }

  @Override
  public List<LiveMember> members() {
    List<LiveMember> live = new ArrayList<>();
    if (members == null) {
      return live;
    }
    String prefix = groupPath + "/members/";
    for (ChildData child : members.stream().toList()) {
      if (!child.getPath().startsWith(prefix)) {
        continue;
      }
      String id = child.getPath().substring(prefix.length());
      try {
        JsonNode node = JSON.readTree(child.getData());
        TreeSet<String> labels = new TreeSet<>();
        node.path("labels").forEach(l -> labels.add(l.asText()));
        String zone = node.path("zone").asText("");
        Member m =
            new Member(
                id,
                node.path("weight").asDouble(1.0),
                zone.isEmpty() ? Optional.empty() : Optional.of(zone),
                labels);
        live.add(new LiveMember(m, node.path("draining").asBoolean(false)));
      } catch (Exception e) {
        log.warn("member data at {} is unreadable; left out", child.getPath());
      }
    }
    return live;
  }

  @Override
  public boolean isLeader() {
    return latch != null && latch.hasLeadership();
  }

  @Override
  public void setDraining(boolean value) {
    draining = value;
    try {
      client.setData().forPath(memberPath(), data());
    } catch (Exception e) {
      log.warn("could not set draining on {}", memberPath(), e);
    }
  }

  private String memberPath() {
    return groupPath + "/members/" + self.id();
  }
}
