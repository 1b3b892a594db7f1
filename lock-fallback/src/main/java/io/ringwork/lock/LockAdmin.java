package io.ringwork.lock;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's side of a lock service: who holds and waits for a key ({@link #inspect}), every
 * lock of the group, forced breaks (recorded by {@link LockBreaks}) and revoke requests. A break or
 * a revoke request pokes the holder's mailbox, which {@link Holds} watches.
 */
final class LockAdmin {

  private static final Logger log = LoggerFactory.getLogger(LockAdmin.class);

  private final LockCore core;
  private final GroupProbe group;

  LockAdmin(LockCore core, GroupProbe group) {
    this.core = core;
    this.group = group;
  }

  /** See {@link KeyLocks#inspect(String)}. */
  KeyLockState inspect(String key) {
    core.requireStarted("inspect");
    LockKeys.check(key);
    int partition = core.partitioner().partition(key);
    List<LockInfo> holders = new ArrayList<>();
    List<LockInfo> waiters = new ArrayList<>();
    for (LockInfo info : queueInfo(partition, core.queueOf(partition, key))) {
      if (LockKeys.overlap(info.key(), info.subtree(), key, false)) {
        (info.holding() ? holders : waiters).add(info);
      }
    }
    return new KeyLockState(key, partition, holders, waiters);
  }

  /** See {@link KeyLocks#inspectAll()}. */
  List<KeyLockState> inspectAll() {
    core.requireStarted("inspectAll");
    Map<String, List<LockInfo>> byKey = new TreeMap<>();
    Map<String, Integer> partitionOf = new HashMap<>();
    for (String p : children(core.paths.locks(), "")) {
      int partition;
      try {
        partition = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        log.warn("ignoring {}/{}: not a partition", core.paths.locks(), p);
        continue;
      }
      String partitionPath = core.paths.lockPartition(partition);
      for (String queue : children(partitionPath, "partition " + p)) {
        for (LockInfo info : queueInfo(partition, partitionPath + "/" + queue)) {
          byKey.computeIfAbsent(info.key(), k -> new ArrayList<>()).add(info);
          partitionOf.put(info.key(), partition);
        }
      }
    }
    List<KeyLockState> out = new ArrayList<>();
    for (Map.Entry<String, List<LockInfo>> e : byKey.entrySet()) {
      List<LockInfo> holders = e.getValue().stream().filter(LockInfo::holding).toList();
      List<LockInfo> waiters = e.getValue().stream().filter(i -> !i.holding()).toList();
      out.add(new KeyLockState(e.getKey(), partitionOf.get(e.getKey()), holders, waiters));
    }
    return out;
  }

  /** A node's children, none when it is absent; {@code what} names it in an error. */
  private List<String> children(String path, String what) {
    try {
      return core.client.getChildren().forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    } catch (Exception e) {
      throw new IllegalStateException(
          "could not list " + (what.isEmpty() ? path : what) + ": " + e, e);
    }
  }

  /** What one queue's request nodes say, read in one round trip where possible. */
  private record QueueData(
      Map<String, LockData> data,
      Map<String, Long> czxid,
      Map<String, String> problems,
      Map<String, LockMode> modes) {}

  private QueueData read(String queue, List<LockNode> requests) {
    QueueData out =
        new QueueData(new HashMap<>(), new HashMap<>(), new HashMap<>(), new HashMap<>());
    // Every node of the queue in one round trip (a multi of reads), one by one if that fails.
    List<OpResult> results = null;
    if (!requests.isEmpty()) {
      List<Op> reads = new ArrayList<>(requests.size());
      for (LockNode n : requests) {
        reads.add(Op.getData(core.fix(queue + "/" + n.name())));
      }
      try {
        results = core.zk().multi(reads);
      } catch (Exception e) {
        results = null;
      }
    }
    for (int i = 0; i < requests.size(); i++) {
      LockNode n = requests.get(i);
      String path = queue + "/" + n.name();
      Stat stat = new Stat();
      byte[] raw = results != null ? fromMulti(results.get(i), stat) : readOne(path, stat);
      if (raw == null) {
        out.problems().put(n.name(), "released while being listed");
        continue;
      }
      out.czxid().put(n.name(), stat.getCzxid());
      try {
        LockData d = LockData.decode(path, raw);
        out.data().put(n.name(), d);
        out.modes().put(n.name(), d.mode());
      } catch (IllegalArgumentException e) {
        out.problems().put(n.name(), e.getMessage());
      }
    }
    return out;
  }

  private static byte[] fromMulti(OpResult r, Stat stat) {
    if (!(r instanceof OpResult.GetDataResult got)) {
      return null;
    }
    stat.setCzxid(got.getStat().getCzxid());
    return got.getData();
  }

  private byte[] readOne(String path, Stat stat) {
    try {
      return core.client.getData().storingStatIn(stat).forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return null;
    } catch (Exception e) {
      throw new IllegalStateException("could not read " + path + ": " + e, e);
    }
  }

  private List<LockInfo> queueInfo(int partition, String queue) {
    LockQueue q = core.list(queue, null);
    QueueData d = read(queue, q.requests());
    // A request the queue grants still waits for the owner's yield where the group has owners.
    boolean owners = core.ownersYield() && !q.requests().isEmpty() && group.workersPresent();
    List<LockInfo> out = new ArrayList<>();
    for (LockNode n : q.requests()) {
      out.add(info(partition, queue, q, n, d, owners));
    }
    return out;
  }

  private static LockInfo info(
      int partition, String queue, LockQueue q, LockNode n, QueueData qd, boolean owners) {
    Map<String, LockMode> modes = qd.modes();
    LockData d = qd.data().get(n.name());
    boolean upgraded = false;
    for (LockNode u : q.upgrades()) {
      if (n.request().equals(u.base()) && q.upgradeGranted(u, modes)) {
        upgraded = true;
      }
    }
    boolean holding = q.holds(n, modes) && (!owners || q.yielded(n.request()));
    String waitingFor = null;
    if (!holding) {
      LockNode b = q.blocker(n, modes, null);
      if (b == null) {
        waitingFor = "the owner's yield";
      } else {
        LockData bd = qd.data().get(b.name());
        waitingFor =
            bd == null ? b.name() : bd.member() + " (" + LockQueue.mode(b, modes).wireName() + ")";
      }
    }
    return new LockInfo(
        n.key(),
        n.subtree(),
        partition,
        d == null ? "?" : d.member(),
        d == null ? 0 : d.incarnation(),
        upgraded ? LockMode.EXCLUSIVE : d == null ? n.mode() : d.mode(),
        qd.czxid().getOrDefault(n.name(), 0L),
        d == null ? 0 : d.since(),
        d == null ? "" : d.purpose(),
        holding,
        queue + "/" + n.name(),
        d == null ? null : d.revokeBy(),
        qd.problems().get(n.name()),
        waitingFor);
  }

  /**
   * Breaks every lock held on a key (and its upgrade nodes), live holders included. Their holders
   * see LOST; a fenced store turns their later writes away, since every later holder's token is
   * larger. Waiters are left alone. The break is recorded in ZooKeeper (who, when, which holders;
   * see {@link #breaks()}).
   *
   * @param force must be true: breaking a live holder is an operator's decision
   * @return how many lock nodes were deleted
   * @throws IllegalArgumentException if {@code force} is false
   */
  int breakLock(String key, boolean force) {
    core.requireStarted("breakLock");
    if (!force) {
      throw new IllegalArgumentException(
          "breaking the lock on "
              + LockKeys.shown(key)
              + " needs force: its holder may be alive and acting (it is fenced by every later"
              + " token); ask it with requestRevoke first");
    }
    int broken = 0;
    Set<String> told = new HashSet<>();
    List<LockBreak.Holder> deleted = new ArrayList<>();
    for (LockInfo info : inspect(key).holders()) {
      try {
        core.client.delete().forPath(info.path());
        if (told.add(info.member())) {
          poke(info.member());
        }
        broken++;
        deleted.add(
            new LockBreak.Holder(
                info.member(), info.mode(), info.token(), info.since(), info.purpose()));
        core.metrics.breaks.inc();
        log.warn(
            "member {} broke the lock of {} on {} ({}, token {}, purpose '{}')",
            core.selfId,
            info.member(),
            LockKeys.shown(info.key()),
            info.mode().wireName(),
            info.token(),
            info.purpose());
      } catch (KeeperException.NoNodeException e) {
        // released meanwhile
      } catch (Exception e) {
        throw new IllegalStateException("could not break " + info.path() + ": " + e, e);
      }
    }
    if (!deleted.isEmpty()) {
      try {
        LockBreaks.record(
            core.client,
            core.paths,
            new LockBreak(key, core.selfId, System.currentTimeMillis(), deleted));
      } catch (Exception e) {
        log.warn("broke the lock on {} but could not record the break: {}", LockKeys.shown(key), e);
      }
    }
    return broken;
  }

  /**
   * Returns the group's records of forced breaks ({@link #breakLock}), newest first: who broke
   * which holders of which key, and when. Bounded: the newest {@link LockBreak#KEPT}, none older
   * than {@link LockBreak#MAX_AGE_MILLIS}.
   *
   * @throws IllegalStateException if not started, or ZooKeeper cannot be read
   */
  List<LockBreak> breaks() {
    core.requireStarted("breaks");
    try {
      return LockBreaks.read(core.client, core.paths);
    } catch (Exception e) {
      throw new IllegalStateException("could not read " + core.paths.lockBreaks() + ": " + e, e);
    }
  }

  /**
   * Asks the holders of a key to give it up: their {@link LockHandle#onRevokeRequested} callbacks
   * run; whether they release is up to them.
   *
   * @return how many holders were asked
   */
  int requestRevoke(String key, String by) {
    core.requireStarted("requestRevoke");
    int asked = 0;
    for (LockInfo info : inspect(key).holders()) {
      try {
        Stat stat = new Stat();
        byte[] raw = core.client.getData().storingStatIn(stat).forPath(info.path());
        byte[] next =
            LockData.decode(info.path(), raw).withRevoke(by, core.clock.getAsLong()).encode();
        core.client.setData().withVersion(stat.getVersion()).forPath(info.path(), next);
        poke(info.member());
        asked++;
      } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
        // released or changed meanwhile
      } catch (IllegalArgumentException e) {
        log.warn("cannot ask {} to give up its lock: {}", info.path(), e.getMessage());
      } catch (Exception e) {
        throw new IllegalStateException("could not ask " + info.path() + ": " + e, e);
      }
    }
    return asked;
  }

  /** Tells a member to check its holds. */
  private void poke(String member) {
    String mail = core.paths.lockMail(member);
    byte[] data = Long.toString(core.clock.getAsLong()).getBytes(StandardCharsets.UTF_8);
    try {
      try {
        core.client.setData().forPath(mail, data);
      } catch (KeeperException.NoNodeException e) {
        core.client.create().creatingParentsIfNeeded().forPath(mail, data);
      }
    } catch (KeeperException.NodeExistsException e) {
      poke(member);
    } catch (Exception e) {
      log.warn("could not tell {} about its lock: {}", member, e.toString());
    }
  }
}
