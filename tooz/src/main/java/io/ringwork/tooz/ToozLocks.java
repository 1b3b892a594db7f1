package io.ringwork.tooz;

import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.SessionLease;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Locks that exclude each other with OpenStack tooz's ({@code coordinator.get_lock(name)}, kazoo's
 * {@code Lock} recipe) on the same name, so that Java and Python workers of one fleet lock the same
 * resources. The rules are those of {@code docs/tooz.md} section 6, each verified there against
 * tooz 3.1 and kazoo 2.8:
 *
 * <ul>
 *   <li>A lock lives in {@code /<namespace>/locks/<name>} (the name verbatim: a {@code /} nests),
 *       whose parents are persistent with empty data, never containers.
 *   <li>A contender is an ephemeral sequential node whose name ends in {@code __lock__} and the
 *       sequence, with the member id as UTF-8 data. Contenders are the children matching kazoo's
 *       {@code __lock__(-?\d{10})$}, ordered by that captured text; every other child is ignored,
 *       as kazoo ignores it.
 *   <li>EXCLUSIVE: held when first; otherwise it waits on its immediate predecessor, as kazoo.
 *   <li>SHARED (which tooz does not offer): the node is named {@code ...-read__lock__<seq>}, so
 *       kazoo still counts it as a contender and a tooz holder excludes it and is excluded by it.
 *       It is held when every contender ahead is also a reader, and waits on the last non-reader
 *       ahead otherwise. (kazoo's own {@code __rlock__} readers are invisible to tooz's lock.)
 * </ul>
 *
 * <p>As everywhere in Ringwork, the fencing token is the node's czxid (from a create2, read back
 * when the create's reply was lost), and a lock follows its session: SUSPENDED while disconnected,
 * HELD again only if its node is still there in the same session, LOST otherwise. (tooz holders
 * keep believing they hold after their session expired: fence what matters.) Release deletes the
 * node, in the background until it succeeds when the connection is down; a timed-out or interrupted
 * acquire deletes its node too.
 */
public final class ToozLocks implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ToozLocks.class);
  private static final Pattern CONTENDER = Pattern.compile("__lock__(-?\\d{10})$");
  private static final SecureRandom RANDOM = new SecureRandom();
  static final String READER = "-read";

  /** One contender of a tooz lock, in kazoo's order. */
  public record Contender(String node, String sequence, String memberId, boolean reader) {}

  private final CuratorFramework client;
  private final String namespacePath;
  private final String memberId;
  private final byte[] data;
  private final List<ACL> acl;
  private final Set<ToozLock> held = ConcurrentHashMap.newKeySet();
  private final Set<String> ensured = ConcurrentHashMap.newKeySet();
  private final ConnectionStateListener connection = this::stateChanged;
  private volatile boolean closed;

  private final SessionLease lease;

  private ToozLocks(Builder b) {
    this.client = Objects.requireNonNull(b.client, "client");
    this.namespacePath = ToozGroup.namespacePath(b.namespace);
    ToozGroup.checkId("member id", b.memberId);
    this.memberId = b.memberId;
    this.data = b.memberId.getBytes(StandardCharsets.UTF_8);
    this.acl = b.credentials == null ? null : ToozGroup.digestAcl(b.credentials);
    client.getConnectionStateListenable().addListener(connection);
    this.lease = SessionLease.acquire(client);
  }

  /** The session lease every held tooz lock is checked by. */
  SessionLease lease() {
    return lease;
  }

  /** Returns a builder. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** Returns the member id written into this service's contender nodes. */
  public String memberId() {
    return memberId;
  }

  /**
   * Returns the directory of a tooz lock name: {@code /<namespace>/locks/<name>}.
   *
   * @throws IllegalArgumentException if the name is empty or has an empty, {@code .} or {@code ..}
   *     part
   */
  public String lockPath(String name) {
    checkName(name);
    return namespacePath + "/locks/" + name;
  }

  static void checkName(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("lock name must not be empty");
    }
    for (String part : name.split("/", -1)) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        throw new IllegalArgumentException(
            "lock name '" + name + "' has an empty, '.' or '..' part (it becomes a path)");
      }
      for (int i = 0; i < part.length(); i++) {
        if (part.charAt(i) < 0x20 || part.charAt(i) == 0x7f) {
          throw new IllegalArgumentException(
              "lock name '" + name + "' has a control character at index " + i);
        }
      }
    }
  }

  /**
   * Takes a tooz lock, waiting up to {@code timeout}.
   *
   * @param mode SHARED or EXCLUSIVE
   * @throws LockTimeoutException naming the holder that was waited for
   * @throws IllegalArgumentException for UPGRADABLE or a bad name
   */
  public ToozLock acquire(String name, LockMode mode, Duration timeout)
      throws LockTimeoutException, InterruptedException {
    return acquireAt(lockPath(name), name, mode, timeout);
  }

  /** Takes a tooz lock if it is free now (for SHARED: if only readers hold it). */
  public Optional<ToozLock> tryAcquire(String name, LockMode mode) throws InterruptedException {
    try {
      return Optional.of(acquire(name, mode, Duration.ZERO));
    } catch (LockTimeoutException e) {
      return Optional.empty();
    }
  }

  /** Takes the lock whose contenders live in {@code dir} (a lock name's, or an election's). */
  ToozLock acquireAt(String dir, String name, LockMode mode, Duration timeout)
      throws LockTimeoutException, InterruptedException {
    if (mode == LockMode.UPGRADABLE) {
      throw new IllegalArgumentException("tooz locks are SHARED or EXCLUSIVE, not UPGRADABLE");
    }
    if (closed) {
      throw new IllegalStateException("the tooz lock service is closed");
    }
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    String path;
    long token;
    long session;
    try {
      ensurePath(dir);
      String prefix =
          HexFormat.of().formatHex(randomBytes()) + (mode == LockMode.SHARED ? READER : "");
      Stat stat = new Stat();
      var create =
          client
              .create()
              .withProtection()
              .storingStatIn(stat)
              .withMode(CreateMode.EPHEMERAL_SEQUENTIAL);
      try {
        path =
            acl != null
                ? create.withACL(acl).forPath(dir + "/" + prefix + "__lock__", data)
                : create.forPath(dir + "/" + prefix + "__lock__", data);
      } catch (KeeperException.NoNodeException e) {
        ensured.remove(dir); // deleted by hand since: make it again, once
        ensurePath(dir);
        path =
            acl != null
                ? create.withACL(acl).forPath(dir + "/" + prefix + "__lock__", data)
                : create.forPath(dir + "/" + prefix + "__lock__", data);
      }
      if (stat.getCzxid() == 0) {
        // The create's reply was lost and Curator found the node again by its protected prefix
        // (kazoo finds its own by its unique prefix the same way): that fills in no stat, so read
        // the token from the node itself rather than hand out 0.
        Stat found = client.checkExists().forPath(path);
        if (found == null) {
          throw new IllegalStateException(
              "the contender node " + path + " vanished right after its creation");
        }
        stat = found;
      }
      token = stat.getCzxid();
      session = client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("could not enter tooz lock " + dir + ": " + e, e);
    }
    String node = path.substring(path.lastIndexOf('/') + 1);
    boolean done = false;
    try {
      while (true) {
        List<Contender> all = contenders(client, dir, false); // one read, as kazoo
        int me = -1;
        for (int i = 0; i < all.size(); i++) {
          if (all.get(i).node().equals(node)) {
            me = i;
          }
        }
        if (me < 0) {
          throw new IllegalStateException(
              "the contender node " + path + " vanished while waiting (deleted by hand?)");
        }
        Contender blocker = null;
        for (int i = me - 1; i >= 0; i--) {
          if (mode == LockMode.EXCLUSIVE || !all.get(i).reader()) {
            blocker = all.get(i);
            break;
          }
        }
        if (blocker == null) {
          ToozLock lock = new ToozLock(this, name, mode, path, token, session);
          held.add(lock);
          // A disconnection reported before the add would have missed this lock.
          if (client.getZookeeperClient().getZooKeeper().getSessionId() != session) {
            lock.lose("its ZooKeeper session ended while it was granted");
            held.remove(lock);
          } else if (!client.getZookeeperClient().isConnected()) {
            lock.suspend();
          } else if (!lease.valid(session)) {
            // A new session has a lease a fifth of its timeout after it started: hand out a lock
            // that is HELD, as KeyLocks does.
            lease.awaitValid(
                session,
                Duration.ofMillis(
                    Math.max(1000, client.getZookeeperClient().getConnectionTimeoutMs())));
          }
          done = true;
          return lock;
        }
        CountDownLatch gone = new CountDownLatch(1);
        Watcher w = e -> gone.countDown();
        String blockerPath = dir + "/" + blocker.node();
        try {
          // getData, as kazoo: unlike exists, it leaves no watch when the node is gone already.
          client.getData().usingWatcher(w).forPath(blockerPath);
        } catch (KeeperException.NoNodeException e) {
          continue;
        }
        long left = deadline - System.nanoTime();
        boolean woke = false;
        try {
          woke = left > 0 && gone.await(left, TimeUnit.NANOSECONDS);
        } finally {
          if (!woke) {
            removeQuietly(w, blockerPath);
          }
        }
        if (!woke) {
          String holder = memberOf(dir + "/" + blocker.node());
          throw new LockTimeoutException(
              "timed out on tooz lock "
                  + dir
                  + " after "
                  + timeout.toMillis()
                  + " ms: held or waited for by '"
                  + holder
                  + "' ("
                  + blocker.node()
                  + ")",
              holder);
        }
      }
    } catch (LockTimeoutException | InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("could not take tooz lock " + dir + ": " + e, e);
    } finally {
      if (!done) {
        deleteQuietly(path);
      }
    }
  }

  private void removeQuietly(Watcher w, String path) {
    try {
      client.watchers().remove(w).ofType(Watcher.WatcherType.Data).forPath(path);
    } catch (Exception e) {
      // fired meanwhile, or the connection is down: it goes when the node does
    }
  }

  private String memberOf(String node) {
    try {
      return new String(client.getData().forPath(node), StandardCharsets.UTF_8);
    } catch (Exception e) {
      return "(gone)";
    }
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return b;
  }

  /** Creates the lock directory and its parents, persistent and empty, as kazoo's ensure_path. */
  private void ensurePath(String dir) throws Exception {
    if (ensured.contains(dir)) {
      return; // as kazoo, once per lock: tooz never deletes a lock directory
    }
    ToozGroup.createPath(client, dir, acl); // an interrupt stays an InterruptedException
    ensured.add(dir);
  }

  /**
   * Returns the contenders of a tooz lock directory in kazoo's order: children whose names end in
   * {@code __lock__} and ten digits (optionally signed), sorted by that text; others are ignored.
   * Empty when the directory does not exist. Reads each contender's member id (one read each).
   *
   * @throws GroupAccessException if ZooKeeper cannot be read, naming the directory
   */
  public static List<Contender> contenders(CuratorFramework client, String dir) {
    return GroupAccessException.call(dir, () -> contenders(client, dir, true));
  }

  /** As {@link #contenders(CuratorFramework, String)}; without data, member ids are null. */
  static List<Contender> contenders(CuratorFramework client, String dir, boolean withData)
      throws Exception {
    List<String> children;
    try {
      children = client.getChildren().forPath(dir);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
    List<Contender> out = new ArrayList<>();
    for (String child : children) {
      Matcher m = CONTENDER.matcher(child);
      if (!m.find()) {
        continue;
      }
      String member = null;
      if (withData) {
        try {
          member = new String(client.getData().forPath(dir + "/" + child), StandardCharsets.UTF_8);
        } catch (KeeperException.NoNodeException e) {
          continue; // gone meanwhile: no longer a contender
        }
      }
      String before = child.substring(0, m.start());
      out.add(new Contender(child, m.group(1), member, before.endsWith(READER)));
    }
    out.sort((a, b) -> a.sequence().compareTo(b.sequence()));
    return out;
  }

  void released(ToozLock lock) {
    held.remove(lock);
    deleteQuietly(lock.path());
  }

  private void deleteQuietly(String path) {
    try {
      client.delete().guaranteed().forPath(path);
    } catch (KeeperException.NoNodeException e) {
      // gone already
    } catch (Exception e) {
      log.warn(
          "could not delete tooz lock node {} (retried in the background): {}", path, e.toString());
    }
  }

  private void stateChanged(CuratorFramework c, ConnectionState state) {
    for (ToozLock lock : held) {
      switch (state) {
        case SUSPENDED -> lock.suspend();
        case LOST -> lock.lose("its ZooKeeper session ended");
        case RECONNECTED -> {
          try {
            long now = c.getZookeeperClient().getZooKeeper().getSessionId();
            Stat s = now == lock.session() ? c.checkExists().forPath(lock.path()) : null;
            if (s != null && s.getEphemeralOwner() == lock.session()) {
              lock.resume();
            } else {
              lock.lose("its node is gone after the reconnection");
            }
          } catch (Exception e) {
            lock.lose("its node could not be checked after the reconnection: " + e);
          }
        }
        default -> {}
      }
      if (lock.state() == LockState.LOST) {
        held.remove(lock);
      }
    }
  }

  /** Releases every lock still held and stops following the connection. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (ToozLock lock : List.copyOf(held)) {
      lock.release();
    }
    client.getConnectionStateListenable().removeListener(connection);
    lease.release();
  }

  /** Builds {@link ToozLocks}. */
  public static final class Builder {
    private CuratorFramework client;
    private String namespace = ToozGroup.DEFAULT_NAMESPACE;
    private String memberId;
    private String credentials;

    private Builder() {}

    /** The started Curator client (the caller's). */
    public Builder client(CuratorFramework client) {
      this.client = client;
      return this;
    }

    /** tooz's namespace, {@code tooz} by default. */
    public Builder namespace(String namespace) {
      this.namespace = Objects.requireNonNull(namespace, "namespace");
      return this;
    }

    /** The member id written into contender nodes (what tooz's get_leader reports). */
    public Builder memberId(String memberId) {
      this.memberId = memberId;
      return this;
    }

    /** {@code user:password} of tooz's digest ACL; the client must authenticate with them. */
    public Builder credentials(String credentials) {
      this.credentials = credentials;
      return this;
    }

    /** Builds the service. */
    public ToozLocks build() {
      return new ToozLocks(this);
    }
  }
}
