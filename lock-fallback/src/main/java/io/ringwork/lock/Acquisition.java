package io.ringwork.lock;

import io.ringwork.membership.SessionLease;
import io.ringwork.ring.Partitioner;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acquires locks: ZooKeeper's lock recipe without Curator's lock recipes, whose holder state
 * survives session loss and whose upgrade hangs. Create an ephemeral sequential node named with a
 * random request id (create2, so its czxid, the fencing token, costs no extra round trip; the id
 * finds the node again when the create's reply is lost), list the queue, and wait ({@link
 * LockWait}) on the nearest earlier conflicting node ({@link LockQueue} decides). The token is
 * never the sequence suffix: it restarts when a queue is reaped. Then, where the group has
 * partition owners, wait until an owner has yielded the key to this request ({@link
 * PartitionGuards}); a group with no live worker has no owner to wait for.
 */
final class Acquisition {

  private static final Logger log = LoggerFactory.getLogger(Acquisition.class);

  private final LockCore core;
  private final Holds holds;
  private final GroupProbe group;

  Acquisition(LockCore core, Holds holds, GroupProbe group) {
    this.core = core;
    this.holds = holds;
    this.group = group;
  }

  /** See {@link KeyLocks#acquire(LockRequest)}. */
  LockHandle acquire(LockRequest request) throws LockTimeoutException, InterruptedException {
    core.requireStarted("acquire");
    LockHandle h = register(request);
    long start = core.nanoTime.getAsLong();
    long deadline = start + request.timeout().toNanos();
    long poked = holds.pokes();
    boolean granted = false;
    try {
      create(h, deadline);
      boolean waited = new GrantWait(h, deadline).await();
      if (!h.held()) {
        throw new IllegalStateException("lock service closed while acquiring " + request.key());
      }
      awaitLease(h, deadline);
      granted = true;
      if (waited) {
        core.metrics.contended.inc();
      }
      core.metrics.acquired(core.nanoTime.getAsLong() - start);
      if (holds.pokes() != poked) {
        core.submit(holds::checkHolds); // a break while we acquired would have skipped this handle
      }
      return h;
    } catch (LockTimeoutException e) {
      core.metrics.timeouts.inc();
      throw e;
    } finally {
      if (!granted) {
        holds.abandon(h);
      }
    }
  }

  /** Makes the request's handle and adds it to the active ones, unless it overlaps one of them. */
  private LockHandle register(LockRequest request) {
    Partitioner part = core.partitioner();
    String key = request.key();
    if (request.subtree() && core.router.routingKeyEnd(key + "/x") > key.length()) {
      throw new IllegalArgumentException(
          "a subtree lock needs a router that routes "
              + LockKeys.shown(key + "/...")
              + " with "
              + LockKeys.shown(key)
              + " (for example KeyRouter.upTo('/')); this one is "
              + core.router);
    }
    int partition = part.partition(key);
    String queue = core.queueOf(partition, key);
    LockHandle h = new LockHandle(holds, request, partition, queue, LockCore.newRequestId());
    Set<LockHandle> active = core.active;
    synchronized (active) {
      for (LockHandle other : active) {
        if (other.isActive()
            && LockKeys.overlap(other.key(), other.subtree(), key, request.subtree())) {
          throw new AlreadyHeldException(
              "member "
                  + core.selfId
                  + " already holds or requests "
                  + LockKeys.shown(other.key())
                  + (other.subtree() ? " (subtree)" : "")
                  + " as "
                  + other.mode()
                  + "; locks are not re-entrant: release it first or downgrade/upgrade it");
        }
      }
      active.add(h);
    }
    return h;
  }

  /**
   * Returns only once the handle's session has a lease, so that a handle is HELD when it is handed
   * out: a new session has one a fifth of its timeout after it started (see {@code SessionLease}).
   * Waits up to the request's deadline, and at least half the session timeout, which is no wait for
   * a holder (a {@code tryAcquire} too may wait for it).
   */
  private void awaitLease(LockHandle h, long deadline) throws LockTimeoutException {
    SessionLease l = core.lease();
    if (l.valid(h.session())) {
      return;
    }
    long left = Math.max(deadline - core.nanoTime.getAsLong(), l.negotiatedTimeout().toNanos() / 2);
    if (!l.awaitValid(h.session(), Duration.ofNanos(Math.max(left, 1_000_000_000L)))) {
      throw new LockTimeoutException(
          "lock on "
              + LockKeys.shown(h.key())
              + " was granted, but the lease of session 0x"
              + Long.toHexString(h.session())
              + " did not begin in time (the session may be ending): released",
          null);
    }
  }

  // ---------------------------------------------------------------- the request node

  private void create(LockHandle h, long deadline)
      throws LockTimeoutException, InterruptedException {
    LockRequest r = h.request();
    String prefix = LockNode.requestPrefix(r.mode(), r.subtree(), h.requestId(), r.key());
    ensurePartition(h.partition());
    while (true) {
      core.checkOpen(h.key());
      ZooKeeper zk = core.zk();
      long session = zk.getSessionId();
      Stat stat = new Stat();
      h.attempted(prefix);
      try {
        String created =
            zk.create(
                core.fix(h.queue() + "/" + prefix),
                nodeData(r, session),
                ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.EPHEMERAL_SEQUENTIAL,
                stat);
        h.created(core.unfix(created), stat.getCzxid(), session);
        return;
      } catch (KeeperException.NoNodeException e) {
        ensureQueue(h.queue());
        continue; // not a wait: the queue had been reaped
      } catch (KeeperException.ConnectionLossException e) {
        // The create may have happened: find it by its request id once connected again.
        awaitConnected(deadline, h.key());
        if (recover(h, prefix)) {
          return;
        }
      } catch (KeeperException.SessionExpiredException | KeeperException.SessionMovedException e) {
        awaitConnected(deadline, h.key());
      } catch (KeeperException e) {
        throw new IllegalStateException(
            "could not create a lock node under " + h.queue() + ": " + e.getMessage(), e);
      }
      if (core.nanoTime.getAsLong() - deadline > 0) {
        throw timeout(h, "the connection to ZooKeeper");
      }
    }
  }

  private byte[] nodeData(LockRequest r, long session) {
    return new LockData(
            core.selfId,
            core.incarnation.getAsLong(),
            session,
            r.mode(),
            r.key(),
            r.subtree(),
            r.purpose(),
            core.clock.getAsLong(),
            null,
            0)
        .encode();
  }

  /** After a connection loss during create: adopts the node if this session made it. */
  private boolean recover(LockHandle h, String prefix) throws InterruptedException {
    try {
      long session = core.zk().getSessionId();
      for (String child : core.client.getChildren().forPath(h.queue())) {
        if (!child.startsWith(prefix)) {
          continue;
        }
        String path = h.queue() + "/" + child;
        Stat stat = core.client.checkExists().forPath(path);
        if (stat == null) {
          continue;
        }
        if (stat.getEphemeralOwner() == session) {
          h.created(path, stat.getCzxid(), session);
          return true;
        }
        // Made by this request in a session that has been replaced: ours, and in the way.
        core.client.delete().quietly().forPath(path);
      }
    } catch (KeeperException.NoNodeException e) {
      return false;
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      log.debug("recovering a lock create under {} failed: {}", h.queue(), e.toString());
    }
    return false;
  }

  private void ensurePartition(int partition) {
    if (core.knownPartitions.contains(partition)) {
      return;
    }
    String path = core.paths.lockPartition(partition);
    try {
      core.client.create().creatingParentsIfNeeded().forPath(path);
    } catch (KeeperException.NodeExistsException e) {
      // made by someone else
    } catch (Exception e) {
      throw new IllegalStateException("could not create " + path + ": " + e, e);
    }
    core.knownPartitions.add(partition);
  }

  private void ensureQueue(String queue) {
    try {
      core.client
          .create()
          .creatingParentContainersIfNeeded()
          .withMode(CreateMode.CONTAINER)
          .forPath(queue);
    } catch (KeeperException.NodeExistsException e) {
      // made by someone else
    } catch (Exception e) {
      throw new IllegalStateException("could not create lock queue " + queue + ": " + e, e);
    }
  }

  private void awaitConnected(long deadline, String key)
      throws InterruptedException, LockTimeoutException {
    long left = deadline - core.nanoTime.getAsLong();
    if (left <= 0
        || !core.client.blockUntilConnected(
            (int) Math.max(1, left / 1_000_000), TimeUnit.MILLISECONDS)) {
      throw new LockTimeoutException(
          "lock on " + LockKeys.shown(key) + ": no connection to ZooKeeper before the deadline",
          "the connection to ZooKeeper");
    }
  }

  private static LockTimeoutException timeout(LockHandle h, String blocker) {
    return new LockTimeoutException(
        "lock on "
            + LockKeys.shown(h.key())
            + " ("
            + h.request().mode().wireName()
            + ") not granted within "
            + h.request().timeout()
            + ": waiting for "
            + blocker,
        blocker);
  }

  // ---------------------------------------------------------------- the wait for the grant

  /**
   * Waits until a request is granted by the queue and, where owners yield, by the owner: each round
   * lists the queue (with the leader latch, in one round trip, until a worker was seen) and waits
   * for the nearest blocker, or for the owner's yield.
   */
  private final class GrantWait {
    private final LockHandle h;
    private final long deadline;
    private final String myName;
    private final Map<String, LockMode> overrides = new HashMap<>();
    private boolean waited;
    private boolean workersChecked;
    private boolean noWorkers;
    private long yieldWaitSince;
    private LockWait wait;

    GrantWait(LockHandle h, long deadline) {
      this.h = h;
      this.deadline = deadline;
      this.myName = ZKPaths.getNodeFromPath(h.path());
    }

    /** Returns whether it had to wait. */
    boolean await() throws LockTimeoutException, InterruptedException {
      try {
        while (!round()) {
          // list again
        }
        return waited;
      } finally {
        if (wait != null) {
          wait.remove();
        }
      }
    }

    /** One listing and what it shows: true when granted. */
    private boolean round() throws LockTimeoutException, InterruptedException {
      core.checkOpen(h.key());
      if (h.session() != core.sessionIdOrZero()) {
        throw new IllegalStateException(
            "the ZooKeeper session ended while waiting for " + LockKeys.shown(h.key()));
      }
      wait = new LockWait(core, h.session());
      LockQueue q = list();
      LockNode me = q.byName(myName);
      if (me == null) {
        if (h.session() != core.sessionIdOrZero()) {
          // The listing ran in a new session: the node went with the old one.
          throw new IllegalStateException(
              "the ZooKeeper session ended while waiting for " + LockKeys.shown(h.key()));
        }
        throw new IllegalStateException(
            "the lock request node " + h.path() + " vanished while waiting (broken by force?)");
      }
      LockNode blocker = q.blocker(me, overrides, null);
      if (blocker != null) {
        awaitBlocker(blocker, me);
        return false;
      }
      if (!core.ownersYield() || q.yielded(h.requestId()) || noWorkers) {
        return true; // no live worker (read after our create): no owner acts on the key
      }
      return awaitYield();
    }

    private LockQueue list() throws InterruptedException {
      if (!core.ownersYield() || workersChecked) {
        return core.list(h.queue(), null);
      }
      // One round trip for both reads: the queue, and whether the group has a live worker.
      GroupProbe.Listing first;
      try {
        first = group.childrenAndWorkers(h.queue());
      } catch (KeeperException | RuntimeException e) {
        // Connection trouble: the two reads one by one, with Curator's retries.
        first = null;
      }
      LockQueue q = first != null ? LockQueue.of(first.children()) : core.list(h.queue(), null);
      boolean workers = first != null ? first.workers() : group.workersPresent();
      workersChecked = true;
      noWorkers = !workers;
      return q;
    }

    private void awaitBlocker(LockNode blocker, LockNode me)
        throws LockTimeoutException, InterruptedException {
      wait.path = h.queue() + "/" + blocker.name();
      LockData data = core.readData(wait.path, wait);
      if (data == null) {
        return; // gone already: list again
      }
      if (blocker.kind() == LockNode.Kind.REQUEST
          && data.mode() != blocker.mode()
          && data.mode().compatibleWith(LockQueue.mode(me, overrides))) {
        overrides.put(blocker.name(), data.mode()); // downgraded: look past it
        wait.remove();
        return;
      }
      waited = true;
      if (!wait.await(deadline)) {
        throw timeout(h, LockCore.describe(blocker, data));
      }
      workersChecked = false; // read the leader latch again with the next listing
    }

    /** Waits for the partition owner's yield, a child of our queue: true when it is there. */
    private boolean awaitYield() throws LockTimeoutException, InterruptedException {
      wait.path = h.queue();
      LockQueue q = core.list(h.queue(), wait);
      if (q.yielded(h.requestId())) {
        // The child watch stays: our own release, a change of this queue, fires it.
        wait.path = null;
        return true;
      }
      waited = true;
      if (yieldWaitSince == 0) {
        yieldWaitSince = core.clock.getAsLong();
      }
      if (!wait.await(deadline)) {
        throw timeout(
            h,
            "the owner of partition "
                + h.partition()
                + " to yield the key: owner busy since "
                + Instant.ofEpochMilli(yieldWaitSince)
                + " (working on the key, or the partition is between owners; a live owner's"
                + " key is never taken from it)");
      }
      return false;
    }
  }
}
