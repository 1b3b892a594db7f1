package io.ringwork.rebalancer;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.Membership;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorClosedException;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handoff's facts in ZooKeeper ({@code docs/DESIGN.md}, "ZooKeeper layout"): {@code acks/<id>}
 * ephemeral nodes of {@link AckCodec}, the persistent {@code barrier} of {@link BarrierCodec} and
 * its {@code barrier-clock}, and the assignment of {@link AssignmentStore}. The barrier and the
 * assignment header are watched with single-node caches, the acknowledgements with one persistent
 * recursive watch.
 *
 * <p>This member's acknowledgement is written only in, and deleted only from, its own current
 * session, and only the node this instance created (its czxid) is ever written into or withdrawn:
 * an earlier instance's on the caller's client could have a deferred delete of it pending.
 */
final class ZooKeeperHandoffStore implements HandoffStore {

  // Under Handoff's name: these warnings were Handoff's before the store was split out of it.
  private static final Logger log = LoggerFactory.getLogger(Handoff.class);
  private static final int MAX_READS_PER_MULTI = 256;

  private final CuratorFramework client;
  private final GroupPaths paths;
  private final String selfId;
  private final AssignmentStore assignments;

  private CuratorCache barrierCache;
  private CuratorCache headerCache;
  // This member's acknowledgement node as last written: its session, version and czxid.
  private long ackSession;
  private int ackVersion = -1;
  private long ackCzxid;

  ZooKeeperHandoffStore(
      CuratorFramework client, GroupPaths paths, String selfId, KeyRouter router) {
    this.client = client;
    this.paths = paths;
    this.selfId = selfId;
    this.assignments = new AssignmentStore(client, paths, router);
  }

  @Override
  public long writeAck(HandoffState state, long incarnation, long session) throws Exception {
    byte[] data = AckCodec.encode(state, incarnation);
    String path = paths.ack(selfId);
    if (ackSession == session && ackVersion >= 0) {
      // The usual case, one operation: our own node, at the version we last wrote.
      try {
        Stat written = client.setData().withVersion(ackVersion).forPath(path, data);
        return written(session, written);
      } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
        ackVersion = -1;
      }
    }
    for (int attempt = 0; attempt < 5; attempt++) {
      Stat stat = client.checkExists().forPath(path);
      try {
        Stat written;
        if (stat == null) {
          written = new Stat();
          client
              .create()
              .storingStatIn(written)
              .creatingParentContainersIfNeeded()
              .withMode(CreateMode.EPHEMERAL)
              .forPath(path, data);
          if (written.getEphemeralOwner() != session) {
            // The session changed under us; the caller re-acknowledges in the new one.
            throw new IllegalStateException("session changed while acknowledging");
          }
        } else if (stat.getEphemeralOwner() == session && stat.getCzxid() == ackCzxid) {
          written = client.setData().withVersion(stat.getVersion()).forPath(path, data);
        } else if (stat.getEphemeralOwner() == session) {
          // Of this session but not created by this instance: an earlier instance's on the
          // caller's client, whose deferred withdraw (keyed on its czxid) would remove it under us,
          // or our own create whose reply was lost. Never adopt it: replace it.
          client.delete().withVersion(stat.getVersion()).forPath(path);
          continue;
        } else if (stat.getEphemeralOwner() == ackSession && ackSession != 0) {
          // Left by this member's previous session, which the server still keeps: never write
          // into it (it vanishes when that session expires), remove it and start afresh.
          client.delete().withVersion(stat.getVersion()).forPath(path);
          continue;
        } else {
          throw new IllegalStateException(
              "acknowledgement "
                  + path
                  + " belongs to session 0x"
                  + Long.toHexString(stat.getEphemeralOwner())
                  + ", not this member's 0x"
                  + Long.toHexString(session));
        }
        return written(session, written);
      } catch (KeeperException.NodeExistsException
          | KeeperException.NoNodeException
          | KeeperException.BadVersionException e) {
        // raced with our own earlier session's node or its expiry: look again
      }
    }
    throw new IllegalStateException("could not write " + path + " after 5 attempts");
  }

  private long written(long session, Stat written) {
    ackSession = session;
    ackCzxid = written.getCzxid();
    ackVersion = written.getVersion();
    return written.getMzxid();
  }

  @Override
  public void withdrawAck(long session) {
    // Now, or once the connection is back in that session: a caller's client outlives us, and an
    // acknowledgement left behind would block every barrier for as long as its session lives.
    // Only the node this instance created (its czxid): never a later instance's in that session.
    Membership.deleteWhenConnected(client, paths.ack(selfId), session, ackCzxid);
  }

  /** A cache of one node that runs {@code onChange} on every change to it; not started. */
  private CuratorCache nodeCache(String path, Runnable onChange) {
    CuratorCache cache = CuratorCache.build(client, path, CuratorCache.Options.SINGLE_NODE_CACHE);
    cache.listenable().addListener((type, before, after) -> onChange.run());
    return cache;
  }

  @Override
  public Watch watchBarrier(Runnable onChange) {
    CuratorCache cache = nodeCache(paths.barrier(), onChange);
    barrierCache = cache;
    cache.start();
    return () -> {
      cache.close();
      barrierCache = null;
    };
  }

  @Override
  public Handoff.Barrier barrier() {
    CuratorCache cache = barrierCache;
    if (cache == null) {
      return Handoff.Barrier.NONE;
    }
    Optional<ChildData> data = cache.get(paths.barrier());
    if (data.isEmpty() || data.get().getStat() == null) {
      return Handoff.Barrier.NONE;
    }
    return parseBarrier(data.get().getData(), data.get().getStat().getMzxid());
  }

  @Override
  public Watch watchAcks(AckListener listener) {
    String prefix = paths.acks() + "/";
    PersistentWatcher watcher = new PersistentWatcher(client, paths.acks(), true);
    watcher
        .getListenable()
        .addListener(
            event -> {
              String path = event.getPath();
              if (path == null) {
                return; // a connection event; the rebalancer re-checks on resume
              }
              long zxid = event.getZxid() == WatchedEvent.NO_ZXID ? NO_ZXID : event.getZxid();
              listener.changed(
                  path.startsWith(prefix) ? path.substring(prefix.length()) : null, zxid);
            });
    watcher.start();
    return watcher::close;
  }

  @Override
  public long markReadPoint() throws Exception {
    byte[] data = selfId.getBytes(StandardCharsets.UTF_8);
    try {
      return client.setData().forPath(paths.barrierClock(), data).getMzxid();
    } catch (KeeperException.NoNodeException e) {
      try {
        client.create().creatingParentsIfNeeded().forPath(paths.barrierClock(), data);
      } catch (KeeperException.NodeExistsException raced) {
        // created by another leader meanwhile
      }
      return client.setData().forPath(paths.barrierClock(), data).getMzxid();
    }
  }

  @Override
  public AckRead readAcks() throws Exception {
    List<String> children;
    try {
      children = client.getChildren().forPath(paths.acks());
    } catch (KeeperException.NoNodeException e) {
      children = List.of();
    }
    List<Op> ops = new ArrayList<>();
    ops.add(Op.getData(paths.barrier()));
    for (String child : children) {
      ops.add(Op.getData(paths.ack(child)));
    }
    List<OpResult> results = new ArrayList<>();
    for (int from = 0; from < ops.size(); from += MAX_READS_PER_MULTI) {
      results.addAll(
          client
              .getZookeeperClient()
              .getZooKeeper()
              .multi(ops.subList(from, Math.min(ops.size(), from + MAX_READS_PER_MULTI))));
    }
    Handoff.Barrier stored = Handoff.Barrier.NONE;
    List<Handoff.Ack> read = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    for (int i = 0; i < results.size(); i++) {
      OpResult result = results.get(i);
      if (!(result instanceof OpResult.GetDataResult got)) {
        continue; // gone since getChildren: its session ended or it was withdrawn
      }
      if (i == 0) {
        stored = parseBarrier(got.getData(), got.getStat().getMzxid());
        continue;
      }
      Handoff.Ack ack = parseAck(children.get(i - 1), got.getData(), got.getStat());
      if (ack == null) {
        unreadable.add(children.get(i - 1));
      } else {
        read.add(ack);
      }
    }
    return new AckRead(stored, read, unreadable);
  }

  @Override
  public void writeBarrier(HandoffState state, long readPoint) throws Exception {
    byte[] data = BarrierCodec.encode(state, readPoint);
    try {
      client.setData().forPath(paths.barrier(), data);
    } catch (KeeperException.NoNodeException e) {
      client.create().creatingParentsIfNeeded().forPath(paths.barrier(), data);
    }
  }

  @Override
  public Watch watchAssignment(Runnable onChange) {
    CuratorCache cache = nodeCache(paths.assignment(), onChange);
    headerCache = cache;
    cache.start();
    return () -> {
      cache.close();
      headerCache = null;
    };
  }

  @Override
  public AssignmentStore.Stored readAssignment(AssignmentStore.Stored cached) throws Exception {
    try {
      return assignments.read(cached);
    } catch (CuratorClosedException e) {
      throw new ClosedException(e);
    }
  }

  @Override
  public AssignmentStore.Stored readWatchedAssignment(AssignmentStore.Stored cached)
      throws Exception {
    try {
      ChildData header =
          headerCache == null ? null : headerCache.get(paths.assignment()).orElse(null);
      return header == null
          ? assignments.read(cached)
          : assignments.read(cached, header.getData(), header.getStat());
    } catch (CuratorClosedException e) {
      throw new ClosedException(e);
    }
  }

  @Override
  public Optional<AssignmentStore.Published> publishAssignment(
      AssignmentStore.Stored previous, Assignment next) throws Exception {
    try {
      return Optional.of(assignments.publish(previous, next));
    } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
      return Optional.empty();
    } catch (CuratorClosedException e) {
      throw new ClosedException(e);
    }
  }

  private Handoff.Ack parseAck(String id, byte[] data, Stat stat) {
    try {
      AckCodec.Written ack = AckCodec.decode(data);
      return new Handoff.Ack(
          id, ack.state(), ack.incarnation(), stat.getEphemeralOwner(), stat.getMzxid());
    } catch (IllegalArgumentException e) {
      log.warn(
          "acknowledgement {} is unreadable and blocks the handoff until it goes: {}",
          paths.ack(id),
          data == null ? "null" : new String(data, StandardCharsets.UTF_8));
      return null;
    }
  }

  private Handoff.Barrier parseBarrier(byte[] data, long zxid) {
    try {
      BarrierCodec.Written barrier = BarrierCodec.decode(data);
      return new Handoff.Barrier(barrier.state(), barrier.readZxid(), zxid);
    } catch (IllegalArgumentException e) {
      log.warn(
          "barrier {} is unreadable; waiting for the leader to rewrite it: {}",
          paths.barrier(),
          data == null ? "null" : new String(data, StandardCharsets.UTF_8));
      return Handoff.Barrier.NONE;
    }
  }
}
