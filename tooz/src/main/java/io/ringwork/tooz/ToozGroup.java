package io.ringwork.tooz;

import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.membership.internal.ListenerGuard;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Membership of a group in OpenStack tooz's ZooKeeper layout, so that a Java worker joins the same
 * group as Python services ({@code join_partitioned_group}) and sees what they see. The layout and
 * every rule here come from {@code docs/tooz.md} (sections 1-4 and 8):
 *
 * <pre>
 * /&lt;namespace&gt;                     persistent, empty (namespace "tooz" by default)
 * /&lt;namespace&gt;/&lt;group&gt;             persistent, empty; every child is a member
 * /&lt;namespace&gt;/&lt;group&gt;/&lt;member-id&gt; ephemeral, msgpack {"weight": W}
 * </pre>
 *
 * <ul>
 *   <li>Parents are persistent, never containers: ZooKeeper deletes an empty container, and Python
 *       members then fail ({@code GroupNotCreated}, or a cached kazoo lock path gone).
 *   <li>Ids are ASCII, non-empty, without {@code /}, not {@code .} or {@code ..}; a member is not
 *       called {@code leader} and no group {@code locks}. Nothing else is ever created under the
 *       group: every child is a member to tooz.
 *   <li>The weight is written once and never changed in place: running Python Partitioners never
 *       see a change, so Python members would disagree with each other.
 *   <li>Every child is read as tooz reads it ({@link ToozData#decode}). A child Python members
 *       cannot read (empty, JSON, a float weight, a non-ASCII name...) is reported in {@link
 *       Snapshot#problems()} and logged at WARN once, not skipped silently: it has already frozen
 *       every Python Partitioner of the group. Such a child is left out of the members; a
 *       persistent child with good data is a member to tooz forever (a zombie), so it stays in and
 *       is reported too.
 *   <li>Unlike tooz, the member joins again after its session is lost (and whenever its node is
 *       found missing): a Python member whose session expired stays out of its group until
 *       restarted.
 *   <li>With credentials, nodes are created with tooz's single digest ACL; the client must
 *       authenticate with the same {@code user:password} ({@code
 *       CuratorFrameworkFactory.builder().authorization("digest", ...)}).
 * </ul>
 *
 * <p>Python members see changes only when they poll ({@code run_watchers()}), so Java and Python
 * agree eventually, once both have seen the same member set. This class watches the group and
 * rebuilds its snapshot from the whole child list on every change, as tooz's Partitioner is built.
 */
public final class ToozGroup implements AutoCloseable {

  /** tooz's default namespace. */
  public static final String DEFAULT_NAMESPACE = "tooz";

  private static final Logger log = LoggerFactory.getLogger(ToozGroup.class);

  /** One child of the group as tooz reads it. */
  public record Child(
      String id, int weight, boolean persistent, long owner, String problem, String note) {

    /** Returns whether tooz counts it in the ring (readable data; a persistent one counts too). */
    public boolean member() {
      return problem == null;
    }

    /** Returns what is wrong with it for Python members, or null. */
    public String flag() {
      if (problem != null) {
        return problem;
      }
      return persistent ? "persistent node: a member to tooz forever (a zombie)" : null;
    }
  }

  /** The group's children at one moment. */
  public record Snapshot(List<Child> children, long version) {

    /** Returns the members tooz builds its ring from, sorted by id. */
    public List<Child> members() {
      return children.stream().filter(Child::member).toList();
    }

    /** Returns the children that break or mislead Python members. */
    public List<Child> problems() {
      return children.stream().filter(c -> c.flag() != null).toList();
    }
  }

  private final CuratorFramework client;
  private final String groupPath;
  private final String namespacePath;
  private final String memberId;
  private final ListenerGuard listenerGuard;
  private final int weight;
  private final List<ACL> acl;
  private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();
  private final ExecutorService events;
  private final Map<String, String> warned = new HashMap<>();
  private final ConnectionStateListener connection = this::stateChanged;

  /** The one watcher of this group (ZooKeeper keeps one registration per watcher and path). */
  private final Watcher watcher =
      event -> {
        if (event.getType() != Watcher.Event.EventType.None) {
          reload(); // connection events: the RECONNECTED listener reloads
        }
      };

  /** Sessions in which this member created its node: an old one may still hold it a while. */
  private final Set<Long> ourSessions = ConcurrentHashMap.newKeySet();

  private volatile String conflict;

  /** Reads of the whole group so far (one per change notification). */
  final AtomicLong reloads = new AtomicLong();

  private volatile Snapshot snapshot = new Snapshot(List.of(), 0);
  private volatile boolean joined;
  private volatile boolean closed;
  private long version;

  private ToozGroup(Builder b) {
    this.client = Objects.requireNonNull(b.client, "client");
    this.namespacePath = namespacePath(b.namespace);
    checkId("group", b.group);
    if (b.group.equals("locks")) {
      throw new IllegalArgumentException(
          "group 'locks' is tooz's lock directory (get_groups() reports it as a group)");
    }
    this.groupPath = namespacePath + "/" + b.group;
    this.listenerGuard = new ListenerGuard(log, "the tooz group " + groupPath);
    this.memberId = b.memberId;
    if (memberId != null) {
      checkId("member id", memberId);
      if (memberId.equals("leader")) {
        throw new IllegalArgumentException(
            "member id 'leader' is the name of tooz's election directory in a group");
      }
      ToozData.weight(b.weight); // checks it
    }
    this.weight = b.weight;
    this.acl = b.credentials == null ? null : digestAcl(b.credentials);
    this.events =
        Executors.newSingleThreadExecutor(DaemonThreads.named("ringwork-tooz-" + b.group));
  }

  /** Returns a builder. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Checks a tooz id (namespace, group, member id or lock name part): ASCII, printable, non-empty,
   * without {@code /}, not {@code .} or {@code ..}.
   *
   * @throws IllegalArgumentException naming what was wrong
   */
  public static void checkId(String what, String id) {
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
    if (id.equals(".") || id.equals("..")) {
      throw new IllegalArgumentException(what + " must not be '" + id + "'");
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IllegalArgumentException(
            what
                + " '"
                + id
                + "' has a character tooz cannot read at index "
                + i
                + " (ids must be printable ASCII without spaces: Python members fail on others)");
      }
      if (c == '/') {
        throw new IllegalArgumentException(what + " '" + id + "' must not contain '/'");
      }
    }
  }

  /** tooz's ACL for {@code user:password}: one digest entry with every permission. */
  public static List<ACL> digestAcl(String credentials) {
    if (!credentials.contains(":")) {
      throw new IllegalArgumentException("credentials must be user:password");
    }
    try {
      return List.of(
          new ACL(
              ZooDefs.Perms.ALL,
              new Id("digest", DigestAuthenticationProvider.generateDigest(credentials))));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-1", e);
    }
  }

  /** Returns the group's path, e.g. {@code /tooz/central-global}. */
  public String path() {
    return groupPath;
  }

  /** Returns this member's id, or null for a read-only view. */
  public String memberId() {
    return memberId;
  }

  /** Returns the latest snapshot of the group. */
  public Snapshot snapshot() {
    return snapshot;
  }

  /** Returns whether this member's node is in the group (as last seen). */
  public boolean joined() {
    if (memberId == null || !joined) {
      return false;
    }
    long session = currentSession();
    return snapshot.children().stream()
        .anyMatch(c -> c.id().equals(memberId) && c.owner() == session);
  }

  /** Returns why this member cannot be in the group (its id taken by another process), or null. */
  public String conflict() {
    return conflict;
  }

  private long currentSession() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return -1;
    }
  }

  /** Calls {@code listener} on the group's thread with each new snapshot. */
  public void onChange(Consumer<Snapshot> listener) {
    listeners.add(listener);
  }

  /**
   * Creates the persistent parents if missing, joins (when a member id was given) and starts
   * watching the group. On any failure it closes itself (no node, watch, listener or thread left).
   *
   * @throws IllegalStateException if the member id is taken by another live session or a persistent
   *     node (naming the id and the group)
   * @throws GroupAccessException if ZooKeeper cannot be read or written (connection loss past the
   *     client's retries, a node whose ACL refuses this client, an interrupt, which is kept); names
   *     the group's path and ZooKeeper's own error
   */
  public ToozGroup start() {
    try {
      join();
      return this;
    } catch (RuntimeException | Error e) {
      close(); // nothing left behind: no listener, no thread, no node, no watch
      throw e;
    } catch (Exception e) {
      close();
      throw GroupAccessException.of(groupPath, e);
    }
  }

  private void join() throws Exception {
    ensureParents();
    client.getConnectionStateListenable().addListener(connection);
    if (memberId != null) {
      try {
        create();
      } catch (KeeperException.NodeExistsException e) {
        Stat s = client.checkExists().forPath(memberPath());
        if (s == null || s.getEphemeralOwner() != currentSession()) {
          throw new IllegalStateException(
              "member id '"
                  + memberId
                  + "' is taken in "
                  + groupPath
                  + (s != null && s.getEphemeralOwner() == 0
                      ? " by a persistent node"
                      : " by another live session")
                  + "; use another id");
        }
      }
      joined = true;
    }
    reloadNow();
  }

  private String memberPath() {
    return groupPath + "/" + memberId;
  }

  private void ensureParents() throws Exception {
    createPath(client, groupPath, acl);
  }

  /**
   * Creates a path's missing nodes, from the root down, persistent with empty data, as kazoo's
   * {@code ensure_path}: never containers, which ZooKeeper deletes once empty (tooz members then
   * fail). With {@code acl} (tooz's digest ACL) when not null.
   *
   * @throws GroupAccessException if ZooKeeper cannot be read or written; names {@code path}
   */
  public static void ensurePath(CuratorFramework client, String path, List<ACL> acl) {
    GroupAccessException.call(
        path,
        () -> {
          createPath(client, path, acl);
          return null;
        });
  }

  /** As {@link #ensurePath}, with ZooKeeper's own exceptions (an interrupt stays one). */
  static void createPath(CuratorFramework client, String path, List<ACL> acl) throws Exception {
    if (client.checkExists().forPath(path) != null) {
      return;
    }
    StringBuilder p = new StringBuilder();
    for (String part : path.substring(1).split("/")) {
      p.append('/').append(part);
      String node = p.toString();
      if (client.checkExists().forPath(node) == null) {
        try {
          var create = client.create().withMode(CreateMode.PERSISTENT);
          if (acl != null) {
            create.withACL(acl).forPath(node, new byte[0]);
          } else {
            create.forPath(node, new byte[0]);
          }
        } catch (KeeperException.NodeExistsException e) {
          // made meanwhile
        }
      }
    }
  }

  /**
   * Returns a tooz namespace's path, {@code /tooz} for {@code tooz} or {@code /tooz}.
   *
   * @throws IllegalArgumentException if it is not one tooz id
   */
  public static String namespacePath(String namespace) {
    String ns = namespace.startsWith("/") ? namespace.substring(1) : namespace;
    checkId("namespace", ns);
    return "/" + ns;
  }

  private void create() throws Exception {
    ourSessions.add(currentSession());
    var create = client.create().withMode(CreateMode.EPHEMERAL);
    if (acl != null) {
      create.withACL(acl).forPath(memberPath(), ToozData.weight(weight));
    } else {
      create.forPath(memberPath(), ToozData.weight(weight));
    }
    log.info("{} joined {} with weight {}", memberId, groupPath, weight);
  }

  private void stateChanged(CuratorFramework c, ConnectionState state) {
    if (state == ConnectionState.RECONNECTED) {
      reload(); // a lost session comes back as RECONNECTED on a new one: the reload rejoins
    }
  }

  private void reload() {
    if (closed) {
      return;
    }
    try {
      events.execute(
          () -> {
            try {
              reloadNow();
            } catch (Exception e) {
              if (!closed) {
                log.warn("could not read tooz group {}; retrying: {}", groupPath, e.toString());
                retryLater();
              }
            }
          });
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  private void retryLater() {
    DaemonThreads.start(
        "ringwork-tooz-retry",
        () -> {
          try {
            Thread.sleep(500);
          } catch (InterruptedException e) {
            return;
          }
          reload();
        });
  }

  private synchronized void reloadNow() throws Exception {
    if (closed) {
      return;
    }
    Watcher w = watcher;
    reloads.incrementAndGet();
    List<String> names;
    try {
      names = client.getChildren().usingWatcher(w).forPath(groupPath);
    } catch (KeeperException.NoNodeException e) {
      ensureParents(); // deleted by hand: tooz would fail to join; put it back
      names = client.getChildren().usingWatcher(w).forPath(groupPath);
    }
    Snapshot next = read(client, groupPath, names);
    // Published after the snapshot that shows it, so that a caller who sees a conflict also sees
    // joined() false (ToozGroupTest.idTakenOverByAnotherProcess_isNotClaimed caught the reverse).
    String nextConflict = conflict;
    if (joined && memberId != null) {
      // Whatever happens to our node, the children watch set above wakes us again.
      Child own = null;
      for (Child c : next.children()) {
        if (c.id().equals(memberId)) {
          own = c;
        }
      }
      if (own == null) {
        try {
          create(); // our session was lost or the node deleted: join again
          nextConflict = null;
          next = read(client, groupPath, client.getChildren().usingWatcher(w).forPath(groupPath));
        } catch (KeeperException.NodeExistsException e) {
          // made since the listing: its event is on the way
        }
      } else if (own.owner() == currentSession()) {
        nextConflict = null;
      } else if (!ourSessions.contains(own.owner())) {
        // (An old session of ours holds it until the server expires it: wait for that quietly.)
        String why =
            "member id '"
                + memberId
                + "' in "
                + groupPath
                + " is held by another process (session 0x"
                + Long.toHexString(own.owner())
                + "): this member stays out until it goes";
        if (!why.equals(conflict)) {
          log.error(why);
        }
        nextConflict = why;
      }
    }
    for (Child c : next.children()) {
      String flag = c.flag();
      if (flag != null && !flag.equals(warned.get(c.id()))) {
        warned.put(c.id(), flag);
        log.warn(
            "tooz group {}: child '{}' {} - Python members of the group fail or disagree",
            groupPath,
            c.id(),
            flag);
      }
    }
    boolean changed = !next.children().equals(snapshot.children());
    if (changed) {
      snapshot = new Snapshot(next.children(), ++version);
    }
    conflict = nextConflict;
    if (changed) {
      for (Consumer<Snapshot> l : listeners) {
        listenerGuard.run(l, () -> l.accept(snapshot));
      }
    }
  }

  /**
   * Reads a tooz group once, without joining or watching it; a group that does not exist reads as
   * empty.
   *
   * @throws IllegalArgumentException if the namespace is not one tooz id
   * @throws GroupAccessException if ZooKeeper cannot be read; names the group's path
   */
  public static Snapshot read(CuratorFramework client, String namespace, String group) {
    String path = namespacePath(namespace) + "/" + group;
    return GroupAccessException.call(
        path,
        () -> {
          List<String> names;
          try {
            names = client.getChildren().forPath(path);
          } catch (KeeperException.NoNodeException e) {
            return new Snapshot(List.of(), 0);
          }
          return read(client, path, names);
        });
  }

  private static Snapshot read(CuratorFramework client, String path, List<String> names)
      throws Exception {
    List<Child> children = new ArrayList<>();
    for (String name : names) {
      Stat stat = new Stat();
      byte[] data;
      try {
        data = client.getData().storingStatIn(stat).forPath(path + "/" + name);
      } catch (KeeperException.NoNodeException e) {
        continue; // left meanwhile
      }
      boolean persistent = stat.getEphemeralOwner() == 0;
      String badName = null;
      try {
        checkId("member id", name);
      } catch (IllegalArgumentException e) {
        badName =
            "name is not an ASCII id (Python: UnicodeEncodeError in get_members()): "
                + e.getMessage();
      }
      ToozData.Decoded d = ToozData.decode(data);
      if (badName == null && name.length() > 255) {
        badName = "name is longer than 255 characters (Ringwork leaves it out of its ring)";
      }
      String problem = badName != null ? badName : d.problem();
      children.add(
          new Child(name, d.weight(), persistent, stat.getEphemeralOwner(), problem, d.note()));
    }
    children.sort((a, b) -> a.id().compareTo(b.id()));
    return new Snapshot(Collections.unmodifiableList(children), 0);
  }

  /** Leaves the group: deletes this member's node if its own session holds it. */
  public synchronized void leave() {
    joined = false;
    if (memberId == null) {
      return;
    }
    try {
      Stat s = client.checkExists().forPath(memberPath());
      if (s != null && s.getEphemeralOwner() == currentSession()) {
        client.delete().withVersion(s.getVersion()).forPath(memberPath());
      }
    } catch (Exception e) {
      log.warn("could not leave {}: {}", groupPath, e.toString());
    }
  }

  /** Leaves the group and stops watching it; the client stays open (it is the caller's). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    leave();
    closed = true;
    client.getConnectionStateListenable().removeListener(connection);
    try {
      // Our one-shot watch stays until it fires: remove it (ZooKeeper drops the server's when no
      // other watcher of this client is left on the path).
      client.watchers().remove(watcher).ofType(Watcher.WatcherType.Any).forPath(groupPath);
    } catch (KeeperException.NoWatcherException e) {
      // none left
    } catch (Exception e) {
      log.debug("could not remove the watch of {}: {}", groupPath, e.toString());
    }
    events.shutdownNow();
    try {
      events.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Builds a {@link ToozGroup}. */
  public static final class Builder {
    private CuratorFramework client;
    private String namespace = DEFAULT_NAMESPACE;
    private String group;
    private String memberId;
    private int weight = 1;
    private String credentials;

    private Builder() {}

    /** The started Curator client (the caller's; not closed by the group). */
    public Builder client(CuratorFramework client) {
      this.client = client;
      return this;
    }

    /** tooz's namespace ({@code ?namespace=}), {@code tooz} by default. */
    public Builder namespace(String namespace) {
      this.namespace = Objects.requireNonNull(namespace, "namespace");
      return this;
    }

    /** The group id. */
    public Builder group(String group) {
      this.group = group;
      return this;
    }

    /** This member's id; without one the group is only watched. */
    public Builder memberId(String memberId) {
      this.memberId = memberId;
      return this;
    }

    /** The weight written once at join, a positive integer (1 by default). */
    public Builder weight(int weight) {
      this.weight = weight;
      return this;
    }

    /** {@code user:password} of tooz's digest ACL; the client must authenticate with them. */
    public Builder credentials(String credentials) {
      this.credentials = credentials;
      return this;
    }

    /**
     * Builds the group; {@link ToozGroup#start()} joins it.
     *
     * @throws IllegalArgumentException naming a bad id or weight
     */
    public ToozGroup build() {
      return new ToozGroup(this);
    }
  }
}
