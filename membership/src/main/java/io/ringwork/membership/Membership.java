package io.ringwork.membership;

import io.ringwork.membership.internal.ConnectionSettings;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.membership.internal.ListenerGuard;
import io.ringwork.ring.Member;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's membership of a group in ZooKeeper: an ephemeral member node, live views of the
 * group, session state and leader election.
 *
 * <pre>
 * &lt;namespace&gt;/&lt;group&gt;/members/&lt;id&gt;   ephemeral, JSON {format: 1, weight, zone, labels, draining[, role, leader]}
 * &lt;namespace&gt;/&lt;group&gt;/leader/...       Curator LeaderLatch of the workers
 * </pre>
 *
 * <p>A member is a {@link Role#WORKER} (the default: a rebalancer places work on it and it may
 * lead) or an {@link Role#OBSERVER} (it is seen in views, marked as such, but is never placed and
 * never takes part in the leader election), as {@code ringwork join} and {@code inspect} need.
 *
 * <p>A member deletes only nodes its own current session created: before it removes its member node
 * it checks the node's ephemeral owner, so a refused duplicate or a member whose session was
 * replaced never removes another live member's node.
 *
 * <p>A member never adopts a node it did not see itself create, even one its own session owns: on a
 * caller's client, an earlier instance with the same id may have left its node with a delete
 * deferred to the next connection, keyed on that node's czxid (its incarnation), and adopting it
 * would let that delete remove the new member for good. Such a node, or our own create's whose
 * reply was lost, is deleted and created anew, as a new incarnation.
 *
 * <p>Views come from a {@link CuratorCache} of the members node, so they reflect ZooKeeper's order
 * of changes; each new one gets a higher {@link View#version()}. A member node whose data is
 * corrupt or of an unknown format is logged once, with its path, and left out of views. On session
 * expiry the member reports {@code onLost} and rejoins by itself as a new incarnation, removing its
 * own stale node if the server still holds it: unlike tooz's Partitioner, a member never silently
 * stays out of its group. Leadership is given up on SUSPENDED (Curator's LeaderLatch).
 *
 * <p>The leader marks itself in its own member data ({@code "leader": true}), so that views name
 * the leader without every member watching the election's nodes: a join costs each member one
 * notification and one read, not two of each.
 *
 * <p>Listeners run on this membership's own event thread, one event at a time.
 */
public final class Membership implements AutoCloseable {

  /** The namespace under which groups live when none is given. */
  public static final String DEFAULT_NAMESPACE = ConnectionDefaults.NAMESPACE;

  /** The session timeout of a client this membership makes itself, when none is given. */
  public static final Duration DEFAULT_SESSION_TIMEOUT = ConnectionDefaults.SESSION_TIMEOUT;

  /** The member data format this version reads and writes. */
  public static final int FORMAT = MemberCodec.FORMAT;

  private static final Logger log = LoggerFactory.getLogger(Membership.class);

  private final CuratorFramework client;
  private final boolean ownsClient;
  private final EmbeddedZooKeeper embedded;
  private final GroupPaths paths;
  private final String groupPath;
  private final Role role;
  private final Duration connectTimeout;
  private final ExecutorService events;
  private final List<MembershipListener> listeners = new CopyOnWriteArrayList<>();
  private final Lifecycle lifecycle = new Lifecycle();
  private final ListenerGuard listenerGuard;
  private final ConnectionStateListener connectionListener = (c, s) -> submit(() -> onState(s));

  /** What a member does in its group. */
  public enum Role {
    /** Runs ownership: a rebalancer places work on it, and it may lead the group. */
    WORKER,
    /** Only watches: it appears in views, but is never placed and never leads. */
    OBSERVER
  }

  /** Where this member stands with its group. */
  public enum State {
    /** Not started yet. */
    LATENT,
    /** Joined with a connected session. */
    JOINED,
    /** The connection is suspended: the session may or may not survive. */
    SUSPENDED,
    /** The session ended; rejoining as a new incarnation. */
    LOST,
    /** Closed: left the group. */
    CLOSED
  }

  private volatile State state = State.LATENT;
  private volatile Member self;
  private volatile boolean draining;
  private volatile boolean joined;
  private volatile View view = new View(0, List.of(), Optional.empty());
  private volatile long incarnation;
  private volatile long sessionId;
  private long version;
  private volatile MemberNodes memberCache;
  private volatile boolean leading;
  private boolean refreshPending;
  private final Object refreshLock = new Object();
  private LeaderLatch latch;

  private Membership(
      Builder b, CuratorFramework client, boolean ownsClient, EmbeddedZooKeeper embedded) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.embedded = embedded;
    this.self = b.member;
    this.paths = GroupPaths.of(b.namespace, b.group);
    this.groupPath = paths.root();
    this.role = b.role;
    this.connectTimeout = b.connection.connectTimeout();
    this.listeners.addAll(b.listeners);
    this.listenerGuard = new ListenerGuard(log, "membership " + paths.member(b.member.id()));
    String name = "ringwork-membership-" + b.group + "-" + b.member.id();
    this.events = Executors.newSingleThreadExecutor(DaemonThreads.named(name));
  }

  /** Returns a new builder. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Checks a group name.
   *
   * @throws IllegalArgumentException if it is empty or contains '/' or a control character
   */
  public static String checkGroup(String name) {
    Objects.requireNonNull(name, "group");
    if (name.isEmpty() || name.contains("/") || name.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          "group must be non-empty without '/' or control characters, got '" + name + "'");
    }
    return name;
  }

  /**
   * Checks a namespace.
   *
   * @throws IllegalArgumentException if it is not an absolute path without a trailing '/'
   */
  public static String checkNamespace(String path) {
    Objects.requireNonNull(path, "namespace");
    if (!path.startsWith("/") || (path.length() > 1 && path.endsWith("/"))) {
      throw new IllegalArgumentException(
          "namespace must be an absolute path without a trailing '/', got '" + path + "'");
    }
    return path;
  }

  /**
   * Connects, joins the group and starts delivering views.
   *
   * @throws IllegalStateException if already started or closed, if ZooKeeper cannot be reached in
   *     time, or if a live session already holds this member's id
   */
  public void start() {
    lifecycle.start();
    try {
      connect();
      client.getConnectionStateListenable().addListener(connectionListener);
      join();
      memberCache = new MemberNodes(client, paths.members(), this::scheduleRefresh);
      memberCache.start();
      if (role == Role.WORKER) {
        startLatch();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new IllegalStateException("interrupted while joining " + groupPath, e);
    } catch (RuntimeException e) {
      close();
      throw e;
    } catch (Exception e) {
      close();
      throw new IllegalStateException("could not join " + groupPath + ": " + e.getMessage(), e);
    }
  }

  private void startLatch() throws Exception {
    latch = new LeaderLatch(client, paths.leader(), self.id());
    latch.addListener(
        new LeaderLatchListener() {
          @Override
          public void isLeader() {
            submit(
                () -> {
                  leading = true;
                  writeData();
                  fire(l -> l.onLeadership(true));
                });
          }

          @Override
          public void notLeader() {
            submit(
                () -> {
                  leading = false;
                  writeData();
                  fire(l -> l.onLeadership(false));
                });
          }
        });
    latch.start();
  }

  /**
   * Starts the client if it is not started and waits, up to the connect timeout, for a connection,
   * without joining: for a component that must check the group before it joins.
   *
   * @throws IllegalStateException if ZooKeeper cannot be reached in time, naming the connect string
   * @throws InterruptedException if interrupted while waiting
   */
  public void connect() throws InterruptedException {
    if (client.getState() == org.apache.curator.framework.imps.CuratorFrameworkState.LATENT) {
      client.start();
    }
    if (!client.blockUntilConnected((int) connectTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          "could not connect to ZooKeeper at "
              + client.getZookeeperClient().getCurrentConnectionString()
              + " within "
              + connectTimeout.toMillis()
              + " ms");
    }
  }

  /** Adds a listener; it receives the current view at once if there is one. */
  public void addListener(MembershipListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
    submit(
        () -> {
          if (view.version() > 0) {
            guarded(listener, l -> l.onView(view));
          }
        });
  }

  /** Returns the latest view. */
  public View view() {
    return view;
  }

  /** Returns the latest view of the members carrying all of {@code labels}. */
  public View view(Set<String> labels) {
    return view.filter(labels);
  }

  /** Returns where this member stands: joined, suspended, lost (rejoining) or closed. */
  public State state() {
    return state;
  }

  /**
   * Returns whether this member is joined with a live, connected session: the session of its member
   * node is the client's current one (a client that moved to a new session is not joined until the
   * membership has rejoined in it, whatever events are still queued).
   */
  public boolean isJoined() {
    return joined
        && client.getZookeeperClient().isConnected()
        && sessionId != 0
        && sessionId == currentSessionId();
  }

  /** Returns whether this member leads the group. */
  public boolean isLeader() {
    LeaderLatch l = latch;
    return l != null && l.hasLeadership();
  }

  /** Returns the zxid that created this member's node: its incarnation; 0 before joining. */
  public long incarnation() {
    return incarnation;
  }

  /**
   * Returns the ZooKeeper session that owns this member's node (its current incarnation); 0 before
   * joining. Nodes of this member are trusted and deleted only when this session owns them.
   */
  public long sessionId() {
    return sessionId;
  }

  /** Returns whether this member is a worker or an observer. */
  public Role role() {
    return role;
  }

  /** Returns the group's ZooKeeper layout. */
  public GroupPaths paths() {
    return paths;
  }

  /** Returns this member as it is published. */
  public Member self() {
    return self;
  }

  /** Returns the connect string of the ZooKeeper client (of the embedded server, when embedded). */
  public String connectString() {
    return client.getZookeeperClient().getCurrentConnectionString();
  }

  /** Returns the ZooKeeper client. */
  public CuratorFramework client() {
    return client;
  }

  /** Returns the group's node, for example {@code /ringwork/conductors}. */
  public String groupPath() {
    return groupPath;
  }

  /**
   * Publishes new weight, zone or labels for this member.
   *
   * @throws IllegalArgumentException if the id differs from this member's
   */
  public void update(Member updated) {
    if (!updated.id().equals(self.id())) {
      throw new IllegalArgumentException(
          "cannot change the member id from '" + self.id() + "' to '" + updated.id() + "'");
    }
    self = updated;
    writeData();
  }

  /** Sets whether this member is draining, which placements take as "give it nothing". */
  public void setDraining(boolean value) {
    draining = value;
    writeData();
  }

  /** Leaves the group and stops. Idempotent; throws nothing. */
  @Override
  public void close() {
    if (!lifecycle.close()) {
      return;
    }
    state = State.CLOSED;
    client.getConnectionStateListenable().removeListener(connectionListener);
    try {
      if (latch != null) {
        latch.close(LeaderLatch.CloseMode.SILENT);
      }
    } catch (Exception e) {
      log.debug("closing the leader latch of {} failed", memberPath(), e);
    }
    if (memberCache != null) {
      memberCache.close();
    }
    if (joined && !ownsClient) {
      // The caller's client (and its session) lives on: if the connection is down now, delete
      // once it is back, or the node would outlive this membership for as long as the session.
      deleteWhenConnected(client, memberPath(), sessionId, incarnation);
    } else if (joined) {
      deleteIfOwned(client, memberPath(), sessionId); // our client closes: its session ends
    }
    joined = false;
    events.shutdown();
    try {
      events.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (ownsClient) {
      client.close();
    }
    if (embedded != null) {
      embedded.close();
    }
  }

  /**
   * Deletes a node that {@code session} owns now, or, if the connection is down, as soon as it is
   * back in that same session (a new session means the ephemeral node went with the old one). For a
   * caller's client, which outlives the component that closes: its nodes must not. Each attempt
   * checks the owner and, unless {@code czxid} is 0, that it is still the node created then, so a
   * node another session or a later component created since is never removed. Quiet.
   */
  public static void deleteWhenConnected(
      CuratorFramework client, String path, long session, long czxid) {
    whenConnected(client, session, c -> tryDeleteIfOwned(c, path, session, czxid));
  }

  /**
   * Runs {@code attempt} now if connected, and again at each reconnection in the same session until
   * it returns true; dropped when the session ends (whatever it would clean up went with it). For a
   * component closing on a caller's client, whose session outlives it: its watches and ephemeral
   * nodes must not. Quiet.
   */
  public static void whenConnected(
      CuratorFramework client,
      long session,
      java.util.function.Predicate<CuratorFramework> attempt) {
    if (session == 0) {
      return;
    }
    if (client.getZookeeperClient().isConnected() && attempt.test(client)) {
      return;
    }
    ConnectionStateListener later =
        new ConnectionStateListener() {
          @Override
          public void stateChanged(CuratorFramework c, ConnectionState state) {
            if (state == ConnectionState.LOST) {
              c.getConnectionStateListenable().removeListener(this); // gone with the session
            } else if (state.isConnected()) {
              long now = -1;
              try {
                now = c.getZookeeperClient().getZooKeeper().getSessionId();
              } catch (Exception e) {
                return; // try at the next connection event
              }
              if (now != session || attempt.test(c)) {
                c.getConnectionStateListenable().removeListener(this);
              }
            }
          }
        };
    client.getConnectionStateListenable().addListener(later);
    // It may have reconnected between the failed attempt and the listener: look once more.
    if (client.getZookeeperClient().isConnected() && attempt.test(client)) {
      client.getConnectionStateListenable().removeListener(later);
    }
  }

  /** Deletes the node if the session owns it; true when done or nothing is left to do. */
  private static boolean tryDeleteIfOwned(
      CuratorFramework client, String path, long session, long czxid) {
    try {
      Stat stat = client.checkExists().forPath(path);
      if (stat != null
          && stat.getEphemeralOwner() == session
          && (czxid == 0 || stat.getCzxid() == czxid)) {
        client.delete().withVersion(stat.getVersion()).forPath(path);
      }
      return true;
    } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
      return true;
    } catch (Exception e) {
      log.debug("could not delete {} now; will retry when connected", path, e);
      return false;
    }
  }

  /**
   * Deletes a node only if the given session owns it (its ephemeral owner), at the version read, so
   * that a node another session created since is never removed. Quiet: returns whether it deleted.
   */
  private static boolean deleteIfOwned(CuratorFramework client, String path, long session) {
    if (session == 0) {
      return false;
    }
    try {
      Stat stat = client.checkExists().forPath(path);
      if (stat == null || stat.getEphemeralOwner() != session) {
        return false;
      }
      client.delete().withVersion(stat.getVersion()).forPath(path);
      return true;
    } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
      return false;
    } catch (Exception e) {
      log.debug("could not delete {}", path, e);
      return false;
    }
  }

  /**
   * Returns the builder of a Curator client as a membership makes one for itself: {@link
   * ConnectionDefaults#newClientBuilder}.
   */
  public static CuratorFrameworkFactory.Builder newClientBuilder(
      String connectString, Duration sessionTimeout) {
    return ConnectionDefaults.newClientBuilder(connectString, sessionTimeout);
  }

  // ------------------------------------------------------------------ internals

  private String memberPath() {
    return paths.member(self.id());
  }

  private void submit(Runnable task) {
    try {
      events.execute(
          () -> {
            try {
              task.run();
            } catch (RuntimeException e) {
              log.error("membership event of {} failed", memberPath(), e);
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("membership event after close dropped");
    }
  }

  private void onState(ConnectionState state) {
    if (lifecycle.isClosed()) {
      return;
    }
    switch (state) {
      case SUSPENDED -> {
        if (!joined) {
          // Lost already and not joined again: there is nothing to pause, and a listener told
          // onSuspended now would wait for an onResumed that a rejoin does not send.
          return;
        }
        this.state = State.SUSPENDED;
        fire(MembershipListener::onSuspended);
      }
      case LOST -> {
        if (!joined) {
          return; // told already
        }
        joined = false;
        this.state = State.LOST;
        fire(MembershipListener::onLost);
      }
      case RECONNECTED -> {
        if (joined && currentSessionId() != sessionId) {
          // The session ended while we were disconnected and no LOST came (Curator reports the
          // new session as a reconnection): its grants are gone, so say so before rejoining.
          joined = false;
          this.state = State.LOST;
          fire(MembershipListener::onLost);
        }
        if (!joined) {
          try {
            join();
          } catch (Exception e) {
            log.error("could not rejoin {} as {}; will retry", groupPath, self.id(), e);
            retryJoin();
          }
        } else {
          this.state = State.JOINED;
          // A leadership change while disconnected could not be written then.
          writeData();
          fire(MembershipListener::onResumed);
        }
        MemberNodes nodes = memberCache;
        if (nodes != null) {
          nodes.reload();
        }
        refresh();
      }
      default -> {}
    }
  }

  private void retryJoin() {
    java.util.concurrent.CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS)
        .execute(
            () ->
                submit(
                    () -> {
                      if (!joined
                          && !lifecycle.isClosed()
                          && client.getZookeeperClient().isConnected()) {
                        try {
                          join();
                          refresh();
                        } catch (Exception e) {
                          log.warn("rejoin of {} failed again; will retry", memberPath(), e);
                          retryJoin();
                        }
                      }
                    }));
  }

  private long currentSessionId() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return -1;
    }
  }

  private void join() throws Exception {
    String path = memberPath();
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        Stat stat = new Stat();
        client
            .create()
            .storingStatIn(stat)
            .creatingParentContainersIfNeeded()
            .withMode(CreateMode.EPHEMERAL)
            .forPath(path, data());
        sessionId = stat.getEphemeralOwner();
        incarnation = stat.getCzxid();
        joined = true;
        state = State.JOINED;
        log.info("{} joined as incarnation {}", path, incarnation);
        return;
      } catch (KeeperException.NodeExistsException e) {
        Stat stat = client.checkExists().forPath(path);
        if (stat == null) {
          continue;
        }
        long owner = stat.getEphemeralOwner();
        if (owner == currentSessionId() || (sessionId != 0 && owner == sessionId)) {
          // A node of this session that this instance did not see itself create: an earlier
          // instance's with the same id on this (the caller's) client, whose deferred delete is
          // keyed on that node's czxid and would remove it under us if we adopted it, or our own
          // create whose reply was lost. Or our own node from the session that just expired.
          // Never adopt it: remove it and join afresh, as a new incarnation.
          try {
            client.delete().withVersion(stat.getVersion()).forPath(path);
          } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
            // someone else cleaned up; try again
          }
          continue;
        }
        throw new IllegalStateException(
            "member id '"
                + self.id()
                + "' is already held by a live session (0x"
                + Long.toHexString(owner)
                + ") at "
                + path
                + "; if that is this member's previous process, its session ends within the"
                + " session timeout");
      }
    }
    throw new IllegalStateException("could not create " + path + " after 5 attempts");
  }

  private byte[] data() {
    return MemberCodec.encode(self, draining, role, leading);
  }

  private void writeData() {
    if (!joined) {
      return;
    }
    if (!client.getZookeeperClient().isConnected()) {
      // Never wait out the retry policy here (it would hold up the event thread, and with it the
      // rejoin): a reconnection in this session rewrites the data, a new session creates it anew.
      return;
    }
    try {
      Stat stat = client.checkExists().forPath(memberPath());
      if (stat == null || stat.getEphemeralOwner() != sessionId) {
        return;
      }
      client.setData().withVersion(stat.getVersion()).forPath(memberPath(), data());
    } catch (KeeperException.BadVersionException e) {
      // Changed by this member from another thread meanwhile; write the newest data once more.
      try {
        client.setData().forPath(memberPath(), data());
      } catch (Exception again) {
        log.warn("could not update {}: {}", memberPath(), again.toString());
      }
    } catch (Exception e) {
      log.warn("could not update {}: {}", memberPath(), e.toString());
    }
  }

  /** Coalesces cache events: one refresh runs for any number of events queued meanwhile. */
  private void scheduleRefresh() {
    synchronized (refreshLock) {
      if (refreshPending) {
        return;
      }
      refreshPending = true;
    }
    submit(this::refresh);
  }

  /**
   * Reads a member node: the one parser of member data, for views and for tools that read a group
   * once.
   *
   * @param stat the node's stat, or null
   * @throws IllegalArgumentException naming what is wrong if the data is corrupt or of an unknown
   *     format
   */
  public static MemberInfo readMember(String id, byte[] data, Stat stat) {
    return MemberCodec.decode(id, data, stat).info();
  }

  // The member nodes as parsed, in view order; the event thread's only.
  private final MemberTable table = new MemberTable();

  /**
   * Brings the view up to date with the member nodes: only the nodes that changed since the last
   * refresh are read and parsed again (all of them after a reload), and a new view is made only
   * when a member or the leader differs.
   */
  private void refresh() {
    synchronized (refreshLock) {
      refreshPending = false;
    }
    MemberNodes cache = memberCache;
    if (lifecycle.isClosed() || cache == null) {
      return;
    }
    String prefix = paths.members() + "/";
    MemberNodes.Changes changes = cache.changes();
    boolean changed = false;
    if (changes.all()) {
      java.util.Map<String, ChildData> nodes = new java.util.HashMap<>();
      for (ChildData child : cache.nodes()) {
        String path = child.getPath();
        if (path.startsWith(prefix) && path.indexOf('/', prefix.length()) < 0) {
          nodes.put(path.substring(prefix.length()), child);
        }
      }
      changed = table.reload(nodes);
    } else {
      for (String path : changes.paths()) {
        if (path.startsWith(prefix) && path.indexOf('/', prefix.length()) < 0) {
          changed |= table.apply(path.substring(prefix.length()), cache.node(path));
        }
      }
    }
    if (!changed) {
      return;
    }
    Optional<String> leaderId = table.leader();
    View current = view;
    if (!table.takeMembersChanged() && current.leader().equals(leaderId)) {
      return; // a node rewritten with the same content, or a corrupt one left out
    }
    View next = new View(++version, table.members(), leaderId);
    view = next;
    fire(l -> l.onView(next));
  }

  private void fire(Consumer<MembershipListener> call) {
    for (MembershipListener l : listeners) {
      guarded(l, call);
    }
  }

  private void guarded(MembershipListener l, Consumer<MembershipListener> call) {
    listenerGuard.run(l, () -> call.accept(l));
  }

  /** Builds a {@link Membership}. Setters validate at once and may be called only once. */
  public static final class Builder {
    private String group;
    private Member member;
    private final ConnectionSettings connection = new ConnectionSettings();
    private Role role = Role.WORKER;
    private boolean roleSet;
    private String namespace = DEFAULT_NAMESPACE;
    private boolean namespaceSet;
    private final List<MembershipListener> listeners = new ArrayList<>();

    private Builder() {}

    /**
     * Sets the group.
     *
     * @throws IllegalArgumentException if it is empty or contains '/' or a control character
     */
    public Builder group(String name) {
      requireUnset(group == null, "group");
      this.group = checkGroup(name);
      return this;
    }

    /** Sets this member. */
    public Builder member(Member self) {
      requireUnset(member == null, "member");
      this.member = Objects.requireNonNull(self, "member");
      return this;
    }

    /** Uses the embedding service's Curator client, started or not; it is not closed here. */
    public Builder curator(CuratorFramework client) {
      connection.curator(client);
      return this;
    }

    /**
     * Connects to an ensemble, for example {@code "zk1:2181,zk2:2181"}.
     *
     * @throws IllegalArgumentException if it is blank
     */
    public Builder connectString(String hosts) {
      connection.connectString(hosts);
      return this;
    }

    /**
     * Runs an embedded server on 127.0.0.1 with data in {@code dir}, or a temporary one if null.
     */
    public Builder embedded(Path dir) {
      return embedded(dir, 0);
    }

    /**
     * Runs an embedded server on 127.0.0.1 at {@code port} (0: a free one) with data in {@code
     * dir}, or a temporary one if null.
     *
     * @throws IllegalArgumentException if the port is not between 0 and 65535
     */
    public Builder embedded(Path dir, int port) {
      connection.embedded(dir, port);
      return this;
    }

    /**
     * Sets the session timeout of a client made here.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder sessionTimeout(Duration timeout) {
      connection.sessionTimeout(timeout);
      return this;
    }

    /**
     * Sets the namespace; {@value Membership#DEFAULT_NAMESPACE} by default.
     *
     * @throws IllegalArgumentException if it is not an absolute path without a trailing '/'
     */
    public Builder namespace(String path) {
      requireUnset(!namespaceSet, "namespace");
      this.namespace = checkNamespace(path);
      this.namespaceSet = true;
      return this;
    }

    /**
     * Sets how long {@link Membership#start()} waits for a connection; twice the session timeout by
     * default.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder connectTimeout(Duration timeout) {
      connection.connectTimeout(timeout);
      return this;
    }

    /** Sets the role; {@link Role#WORKER} by default. */
    public Builder role(Role memberRole) {
      requireUnset(!roleSet, "role");
      this.role = Objects.requireNonNull(memberRole, "role");
      this.roleSet = true;
      return this;
    }

    /** Adds a listener. */
    public Builder listener(MembershipListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Builds the membership; {@link Membership#start()} joins.
     *
     * @throws IllegalStateException if the group, member or ZooKeeper source is missing
     */
    public Membership build() {
      if (group == null) {
        throw new IllegalStateException("group is required");
      }
      if (member == null) {
        throw new IllegalStateException("member is required");
      }
      if (!connection.hasSource()) {
        throw new IllegalStateException(
            "a ZooKeeper source is required: curator(...), connectString(...) or embedded(...)");
      }
      if (connection.curator() != null) {
        return new Membership(this, connection.curator(), false, null);
      }
      EmbeddedZooKeeper server = connection.startEmbedded();
      return new Membership(this, connection.newClient(server), true, server);
    }

    private static void requireUnset(boolean unset, String what) {
      if (!unset) {
        throw new IllegalStateException(what + " was already set");
      }
    }
  }
}
