package io.ringwork.tooz;

import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.internal.DaemonThreads;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election compatible with tooz's {@code watch_elected_as_leader} and {@code get_leader}:
 * the leader holds a kazoo-compatible lock ({@link ToozLocks}) whose contenders live in {@code
 * /<namespace>/<group>/leader}, with its member id as data, so that a Python member of the group is
 * not elected while a Java one leads, and {@code get_leader} names the Java leader.
 *
 * <p>Use a group of its own for an election: the {@code leader} directory is a child of the group,
 * and a Python Partitioner of that group fails on it (docs/tooz.md, section 1). Unlike Python
 * contenders, which try once per {@code run_watchers()}, a Java contender queues, so it takes over
 * as soon as the leader goes. Leadership is lost with the session; the token of the leadership (its
 * node's czxid) fences what the leader writes.
 */
public final class ToozElection implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ToozElection.class);

  private final ToozLocks locks;
  private final String dir;
  private final String group;
  private final Consumer<ToozLock> onElected;
  private final Thread thread;
  private volatile ToozLock leadership;
  private volatile boolean closed;
  private volatile boolean standingDown;

  private ToozElection(Builder b) {
    ToozGroup.checkId("group", b.group);
    this.group = b.group;
    this.locks =
        ToozLocks.newBuilder()
            .client(b.client)
            .namespace(b.namespace)
            .memberId(b.memberId)
            .credentials(b.credentials)
            .build();
    this.dir = ToozGroup.namespacePath(b.namespace) + "/" + b.group + "/leader";
    this.onElected = b.onElected;
    this.thread = DaemonThreads.thread("ringwork-tooz-election-" + b.group, this::run);
  }

  /** Returns a builder. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** Starts contending in the background. */
  public ToozElection start() {
    thread.start();
    return this;
  }

  private void run() {
    while (!closed) {
      try {
        if (standingDown) {
          Thread.sleep(100);
          continue;
        }
        ToozLock lock = locks.acquireAt(dir, group, LockMode.EXCLUSIVE, Duration.ofSeconds(30));
        leadership = lock;
        log.info("{} leads tooz group {} (token {})", locks.memberId(), group, lock.token());
        if (onElected != null) {
          onElected.accept(lock);
        }
        while (!closed
            && !standingDown
            && lock.state() != LockState.LOST
            && lock.state() != LockState.RELEASED) {
          Thread.sleep(50);
        }
        leadership = null;
        lock.release();
      } catch (LockTimeoutException e) {
        // still waiting in line: take a fresh place (kazoo does the same on a timeout)
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!closed) {
          log.warn("tooz election in {}: {}; retrying", group, e.toString());
          try {
            Thread.sleep(500);
          } catch (InterruptedException ie) {
            return;
          }
        }
      }
    }
  }

  /** Returns whether this member leads now (its leadership lock is HELD). */
  public boolean isLeader() {
    ToozLock l = leadership;
    return l != null && l.state() == LockState.HELD;
  }

  /** Returns the current leadership, if this member leads. */
  public Optional<ToozLock> leadership() {
    return Optional.ofNullable(leadership).filter(l -> l.state() == LockState.HELD);
  }

  /**
   * Gives up leadership, as {@code stand_down_group_leader}, and does not contend again until
   * {@link #contend()}.
   */
  public void standDown() {
    standingDown = true;
    ToozLock l = leadership;
    if (l != null) {
      l.release();
    }
  }

  /** Contends again after {@link #standDown()}. */
  public void contend() {
    standingDown = false;
  }

  /**
   * Returns the leader of a tooz group as {@code get_leader} does: the data of the first contender
   * in its {@code leader} directory. Unlike tooz, it creates nothing.
   *
   * @throws IllegalArgumentException if the namespace is not one tooz id
   * @throws GroupAccessException if ZooKeeper cannot be read; names the leader directory's path
   */
  public static Optional<String> leader(CuratorFramework client, String namespace, String group) {
    String dir = ToozGroup.namespacePath(namespace) + "/" + group + "/leader";
    return GroupAccessException.call(
        dir,
        () -> {
          for (ToozLocks.Contender c : ToozLocks.contenders(client, dir, false)) {
            try {
              byte[] data = client.getData().forPath(dir + "/" + c.node());
              return data.length == 0
                  ? Optional.<String>empty()
                  : Optional.of(new String(data, StandardCharsets.UTF_8));
            } catch (KeeperException.NoNodeException e) {
              // gone meanwhile: the next one is first now
            }
          }
          return Optional.<String>empty();
        });
  }

  /** Stops contending and gives up leadership. */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ToozLock l = leadership;
    if (l != null) {
      l.release();
    }
    locks.close();
  }

  /** Builds a {@link ToozElection}. */
  public static final class Builder {
    private CuratorFramework client;
    private String namespace = ToozGroup.DEFAULT_NAMESPACE;
    private String group;
    private String memberId;
    private String credentials;
    private Consumer<ToozLock> onElected;

    private Builder() {}

    /** The started Curator client (the caller's). */
    public Builder client(CuratorFramework client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /** tooz's namespace, {@code tooz} by default. */
    public Builder namespace(String namespace) {
      this.namespace = Objects.requireNonNull(namespace, "namespace");
      return this;
    }

    /** The election's group (one of its own, not a partitioned group). */
    public Builder group(String group) {
      this.group = group;
      return this;
    }

    /** This contender's member id. */
    public Builder memberId(String memberId) {
      this.memberId = memberId;
      return this;
    }

    /** {@code user:password} of tooz's digest ACL. */
    public Builder credentials(String credentials) {
      this.credentials = credentials;
      return this;
    }

    /** Called on the election's thread when this member is elected. */
    public Builder onElected(Consumer<ToozLock> onElected) {
      this.onElected = onElected;
      return this;
    }

    /** Builds the election; {@link ToozElection#start()} contends. */
    public ToozElection build() {
      return new ToozElection(this);
    }
  }
}
