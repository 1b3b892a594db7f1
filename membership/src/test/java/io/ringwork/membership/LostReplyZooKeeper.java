package io.ringwork.membership;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * A {@link ZooKeeper} handle that loses the reply of one chosen request: the request is sent and
 * applied by the server, then the caller gets {@link KeeperException.ConnectionLossException}
 * instead of the result, which is what a client sees when its connection drops between the server's
 * commit and the reply. {@link FaultProxy#loseReplies(long)} does the same on the wire but cannot
 * pick one request among those a component sends; this handle can, by call and path.
 *
 * <p>It can also refuse matching calls (ConnectionLoss without sending them), as for a connection
 * that is down for those calls only.
 *
 * <p>Give a Curator client the {@link Factory}; every handle it creates (one per session) shares
 * the factory's switches. Only the synchronous calls Curator's foreground operations use are
 * intercepted: {@code create} (with and without a stat), {@code setData}, {@code delete}, {@code
 * exists} (with a watcher or not) and {@code multi}.
 *
 * <pre>{@code
 * LostReplyZooKeeper.Factory lost = LostReplyZooKeeper.factory();
 * CuratorFramework c = CuratorFrameworkFactory.builder().zookeeperFactory(lost)...build();
 * lost.loseReply(LostReplyZooKeeper.Call.SET_DATA, path -> path.endsWith("/node"));
 * }</pre>
 */
public final class LostReplyZooKeeper extends ZooKeeper {

  /** The intercepted calls. */
  public enum Call {
    CREATE,
    SET_DATA,
    DELETE,
    EXISTS,
    /** A transaction; the predicate is tested on the path of each of its operations. */
    MULTI
  }

  private final Factory factory;

  private LostReplyZooKeeper(
      String connectString,
      int sessionTimeout,
      Watcher watcher,
      boolean canBeReadOnly,
      Factory factory)
      throws IOException {
    super(connectString, sessionTimeout, watcher, canBeReadOnly);
    this.factory = factory;
  }

  /** Returns a new factory with nothing armed. */
  public static Factory factory() {
    return new Factory();
  }

  /** Creates the handles and holds the switches they share. */
  public static final class Factory implements ZookeeperFactory {
    private final AtomicReference<Fault> armed = new AtomicReference<>();
    private final AtomicInteger lost = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();

    private Factory() {}

    @Override
    public ZooKeeper newZooKeeper(
        String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly)
        throws Exception {
      return new LostReplyZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, this);
    }

    /**
     * Arms a lost reply: the next {@code call} whose path matches is applied by the server, then
     * throws ConnectionLoss. Once; replaces anything armed before.
     */
    public void loseReply(Call call, Predicate<String> path) {
      loseReply(call, path, () -> {});
    }

    /**
     * Like {@link #loseReply(Call, Predicate)}, running {@code meanwhile} after the server applied
     * the request and before the ConnectionLoss is thrown (on a thread of its own, waited for):
     * what other clients do while the reply is on its way. It must not use this factory's client.
     */
    public void loseReply(Call call, Predicate<String> path, Runnable meanwhile) {
      armed.set(new Fault(call, path, false, new AtomicInteger(1), meanwhile));
    }

    /**
     * Refuses the next {@code times} matching calls: each throws ConnectionLoss without being sent.
     * Replaces anything armed before.
     */
    public void refuse(Call call, Predicate<String> path, int times) {
      armed.set(new Fault(call, path, true, new AtomicInteger(times), () -> {}));
    }

    /** Disarms. */
    public void disarm() {
      armed.set(null);
    }

    /** Returns how many replies were lost so far. */
    public int lost() {
      return lost.get();
    }

    /** Returns how many calls were refused so far. */
    public int refused() {
      return refused.get();
    }

    /** The armed fault if {@code call} on {@code paths} matches it and it has a shot left. */
    private Fault take(Call call, List<String> paths) {
      Fault f = armed.get();
      if (f == null || f.call != call || paths.stream().noneMatch(f.path)) {
        return null;
      }
      if (f.left.getAndDecrement() <= 0) {
        return null;
      }
      if (f.left.get() <= 0) {
        armed.compareAndSet(f, null);
      }
      (f.refuse ? refused : lost).incrementAndGet();
      return f;
    }
  }

  private record Fault(
      Call call, Predicate<String> path, boolean refuse, AtomicInteger left, Runnable meanwhile) {}

  private static KeeperException.ConnectionLossException connectionLoss(Fault f) {
    // On a thread of its own: Curator keeps per-thread retry state (ThreadLocalRetryLoop), and a
    // Curator call nested in the caller's retry loop would not run as it does on its own.
    Thread t = new Thread(f.meanwhile, "lost-reply-meanwhile");
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return new KeeperException.ConnectionLossException();
  }

  /** Returns the armed fault for this call, throwing at once if it refuses the call. */
  private Fault before(Call call, List<String> paths) throws KeeperException {
    Fault f = factory.take(call, paths);
    if (f != null && f.refuse) {
      throw connectionLoss(f);
    }
    return f;
  }

  @Override
  public String create(String path, byte[] data, List<ACL> acl, CreateMode createMode)
      throws KeeperException, InterruptedException {
    Fault f = before(Call.CREATE, List.of(path));
    String created = super.create(path, data, acl, createMode);
    if (f != null) {
      throw connectionLoss(f);
    }
    return created;
  }

  @Override
  public String create(
      String path, byte[] data, List<ACL> acl, CreateMode createMode, Stat stat, long ttl)
      throws KeeperException, InterruptedException {
    Fault f = before(Call.CREATE, List.of(path));
    // A lost reply fills nothing in: the caller's stat stays as it was.
    String created = super.create(path, data, acl, createMode, f != null ? new Stat() : stat, ttl);
    if (f != null) {
      throw connectionLoss(f);
    }
    return created;
  }

  @Override
  public Stat setData(String path, byte[] data, int version)
      throws KeeperException, InterruptedException {
    Fault f = before(Call.SET_DATA, List.of(path));
    Stat stat = super.setData(path, data, version);
    if (f != null) {
      throw connectionLoss(f);
    }
    return stat;
  }

  @Override
  public void delete(String path, int version) throws InterruptedException, KeeperException {
    Fault f = before(Call.DELETE, List.of(path));
    super.delete(path, version);
    if (f != null) {
      throw connectionLoss(f);
    }
  }

  @Override
  public Stat exists(String path, Watcher watcher) throws KeeperException, InterruptedException {
    Fault f = before(Call.EXISTS, List.of(path));
    Stat stat = super.exists(path, watcher);
    if (f != null) {
      throw connectionLoss(f);
    }
    return stat;
  }

  @Override
  public List<OpResult> multi(Iterable<Op> ops) throws InterruptedException, KeeperException {
    List<String> paths = new ArrayList<>();
    ops.forEach(op -> paths.add(op.getPath()));
    Fault f = before(Call.MULTI, paths);
    List<OpResult> results = super.multi(ops);
    if (f != null) {
      throw connectionLoss(f);
    }
    return results;
  }
}
