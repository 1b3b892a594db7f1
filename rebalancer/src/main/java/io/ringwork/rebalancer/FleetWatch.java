package io.ringwork.rebalancer;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.MemberInfo;
import io.ringwork.rebalancer.FleetState.DrainRequest;
import io.ringwork.rebalancer.FleetState.Pause;
import io.ringwork.rebalancer.FleetState.Reservation;
import io.ringwork.ring.Member;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member's side of the operators' controls ({@link FleetState}): it keeps them from one
 * persistent recursive watch on {@code <group>/fleet} (one read per node created or changed, a full
 * read at start and after a reconnection), keeps its own reservation and drain request true, and,
 * while it leads, starts and ends the graces and the pause.
 *
 * <h2>Who writes what</h2>
 *
 * <ul>
 *   <li>{@code fleet/reservations/<id>}: created PRESENT by the member once it has joined (with a
 *       restart grace set), rewritten RESTARTING by the member just before it leaves with {@code
 *       closeForRestart()}, rewritten ABSENT by the leader when the member is no longer live and
 *       its reservation still says PRESENT (its session ended without a word), rewritten PRESENT by
 *       the member when it is back. Deleted by the member when it leaves for good ({@code close()},
 *       {@code drain()}) or is drained, and by the leader once the grace has run out (by version,
 *       so that a member that came back in between keeps it).
 *   <li>{@code fleet/pause}: created and deleted by an operator ({@link GroupAdmin}); deleted by
 *       the leader at its deadline (by version).
 *   <li>{@code fleet/drain/<id>}: created and deleted by an operator; deleted by the member when it
 *       leaves, and by a later incarnation of it (a request holds for the incarnation asked).
 * </ul>
 *
 * <h2>Clock</h2>
 *
 * <p>A grace or pause starts at its node's mtime, which the ZooKeeper leader stamps on the write:
 * no member's clock enters the stored fact, and every reader computes the same deadline. To decide
 * that a deadline has passed, the group's leader writes {@code barrier-clock} (the node it already
 * writes before every barrier) and compares that write's mtime, the server's "now", with the
 * deadline; only then does it delete, by version. A member's own clock is used only to schedule
 * when to look again. So two members never disagree about whether a reservation holds: it holds
 * while its node exists. The cost: the server's clock is that of the ZooKeeper leader at each
 * write, so a change of ZooKeeper leader with a skewed clock shifts a deadline by that skew.
 *
 * <p>Every method runs on the rebalancer's event thread.
 */
final class FleetWatch {

  private static final Logger log = LoggerFactory.getLogger(FleetWatch.class);
  // Looks again a little after a deadline: the local timer and the server clock differ slightly.
  private static final long RECHECK_SLACK_MILLIS = 50;

  private final CuratorFramework client;
  private final GroupPaths paths;
  private final Member self;
  private final long graceMillis;
  private final GroupSession session;
  private final Consumer<Runnable> eventThread;
  private final BiFunction<Runnable, Duration, Object> scheduler;
  private final Runnable onChange;

  private PersistentWatcher watcher;
  private volatile FleetState state = FleetState.NONE;
  private volatile boolean closed;
  private volatile boolean leaving;
  // Written on the event thread, read by closeForRestart()'s caller.
  private volatile boolean remoteDrained;
  private long checkScheduledFor = Long.MAX_VALUE;

  FleetWatch(
      CuratorFramework client,
      GroupPaths paths,
      Member self,
      Duration grace,
      GroupSession session,
      Consumer<Runnable> eventThread,
      BiFunction<Runnable, Duration, Object> scheduler,
      Runnable onChange) {
    this.client = client;
    this.paths = paths;
    this.self = self;
    this.graceMillis = grace.toMillis();
    this.session = session;
    this.eventThread = eventThread;
    this.scheduler = scheduler;
    this.onChange = onChange;
  }

  /**
   * Watches the controls and queues a full read of them on the event thread, ahead of any view
   * event (the membership starts after this): the first placement this member makes, as a new
   * leader say, already honours every reservation and the pause.
   */
  void start() {
    watcher = new PersistentWatcher(client, paths.fleet(), true);
    watcher
        .getListenable()
        .addListener(
            event -> {
              String path = event.getPath();
              if (path != null) {
                eventThread.accept(() -> nodeChanged(path));
              }
            });
    // After a reconnection events may have been missed: read everything again.
    watcher.getResetListenable().addListener(() -> eventThread.accept(this::reload));
    watcher.start();
    eventThread.accept(this::reload);
  }

  void close() {
    closed = true;
    if (watcher != null) {
      watcher.close();
      watcher = null;
    }
  }

  /** The controls as last seen. */
  FleetState state() {
    return state;
  }

  /** Whether an operator asked this incarnation to drain. */
  boolean remoteDrained() {
    return remoteDrained;
  }

  /** Reads every control again: at start and after a reconnection. */
  private void reload() {
    if (closed) {
      return;
    }
    try {
      state = FleetState.read(client, paths);
    } catch (Exception e) {
      log.warn("could not read the controls of {}: {}; retrying", paths.root(), e.toString());
      scheduler.apply(this::reload, Duration.ofMillis(200));
      return;
    }
    onChange.run();
  }

  /**
   * One node under {@code fleet} was created, changed or deleted: read it again (one read; its
   * absence removes it), in the order the events came.
   */
  private void nodeChanged(String path) {
    if (closed) {
      return;
    }
    String reservationPrefix = paths.reservations() + "/";
    String drainPrefix = paths.drainRequests() + "/";
    boolean reservation = path.startsWith(reservationPrefix);
    boolean drain = path.startsWith(drainPrefix);
    if (!reservation && !drain && !path.equals(paths.pause())) {
      return; // a parent node
    }
    Stat stat = new Stat();
    byte[] data;
    try {
      data = client.getData().storingStatIn(stat).forPath(path);
    } catch (KeeperException.NoNodeException gone) {
      data = null;
    } catch (Exception e) {
      log.warn("could not read {}: {}; reading every control again", path, e.toString());
      scheduler.apply(this::reload, Duration.ofMillis(200));
      return;
    }
    FleetState s = state;
    SortedMap<String, Reservation> reservations = new TreeMap<>(s.reservations());
    SortedMap<String, DrainRequest> drains = new TreeMap<>(s.drains());
    Optional<Pause> pause = s.pause();
    if (reservation) {
      String id = path.substring(reservationPrefix.length());
      Reservation r = data == null ? null : FleetCodec.reservation(id, data, stat);
      if (r == null) {
        reservations.remove(id);
      } else {
        reservations.put(id, r);
      }
    } else if (drain) {
      String id = path.substring(drainPrefix.length());
      DrainRequest r = data == null ? null : FleetCodec.drain(id, data, stat);
      if (r == null) {
        drains.remove(id);
      } else {
        drains.put(id, r);
      }
    } else {
      pause = data == null ? Optional.empty() : Optional.ofNullable(FleetCodec.pause(data, stat));
    }
    state = new FleetState(reservations, pause, drains);
    onChange.run();
  }

  /**
   * Keeps this member's own nodes true and, as the leader, the deadlines; called after every view
   * and control change. {@code draining} is whether this member is leaving by a drain.
   */
  void reconcile(boolean draining) {
    if (!session.joined() || leaving) {
      return;
    }
    selfDuties(draining);
    if (session.isLeader()) {
      leaderDuties();
    }
  }

  private void selfDuties(boolean draining) {
    long incarnation = session.incarnation();
    DrainRequest request = state.drains().get(self.id());
    boolean asked = request != null && request.incarnation() == incarnation;
    if (request != null && request.incarnation() < incarnation) {
      // Asked of an earlier incarnation. By version: an operator may have asked this incarnation
      // since (a set on the same node), and that request must stay.
      deleteQuietly(paths.drainRequest(self.id()), request.version());
    }
    if (asked != remoteDrained) {
      remoteDrained = asked;
      log.info(
          "{} {} an operator's drain request", self.id(), asked ? "follows" : "is released from");
      session.setDraining(asked || draining);
    }
    Reservation mine = state.reservations().get(self.id());
    boolean wanted = graceMillis > 0 && !draining && !remoteDrained;
    try {
      if (!wanted) {
        if (mine != null) {
          client.delete().withVersion(mine.version()).forPath(paths.reservation(self.id()));
        }
      } else if (mine == null) {
        client
            .create()
            .creatingParentsIfNeeded()
            .forPath(
                paths.reservation(self.id()),
                FleetCodec.reservation(self, Reservation.State.PRESENT, graceMillis));
      } else if (mine.state() != Reservation.State.PRESENT
          || !mine.member().equals(self)
          || mine.graceMillis() != graceMillis) {
        client
            .setData()
            .withVersion(mine.version())
            .forPath(
                paths.reservation(self.id()),
                FleetCodec.reservation(self, Reservation.State.PRESENT, graceMillis));
        log.info("{} is back within its grace and claims its reservation", self.id());
      }
    } catch (KeeperException.NodeExistsException
        | KeeperException.BadVersionException
        | KeeperException.NoNodeException raced) {
      // The leader ended or rewrote it meanwhile: the watch event that follows decides again.
    } catch (Exception e) {
      log.warn("could not update the reservation of {}: {}", self.id(), e.toString());
      scheduler.apply(() -> reconcile(draining), Duration.ofMillis(200));
    }
  }

  /**
   * Marks the reservations of members that are gone, and ends graces and the pause at their
   * deadlines in the server's time.
   */
  private void leaderDuties() {
    Set<String> live = new HashSet<>();
    for (MemberInfo w : session.workers()) {
      live.add(w.id());
    }
    long next = Long.MAX_VALUE;
    for (Reservation r : state.reservations().values()) {
      String id = r.member().id();
      if (live.contains(id)) {
        continue;
      }
      if (r.state() == Reservation.State.PRESENT) {
        try {
          client
              .setData()
              .withVersion(r.version())
              .forPath(
                  paths.reservation(id),
                  FleetCodec.reservation(r.member(), Reservation.State.ABSENT, r.graceMillis()));
          log.info("{} is gone without a drain: its partitions stay reserved for it", id);
        } catch (Exception e) {
          log.debug("could not mark {} absent: {}", id, e.toString());
        }
        continue; // the write's event brings its mtime, the start of the grace
      }
      next = Math.min(next, r.expiresAtMillis());
    }
    if (state.pause().isPresent()) {
      next = Math.min(next, state.pause().get().untilMillis());
    }
    if (next != Long.MAX_VALUE && next < checkScheduledFor) {
      checkScheduledFor = next;
      // The first look is at once: it measures the server's clock and schedules the rest.
      eventThread.accept(this::expire);
    }
  }

  /** Deletes, by version, every reservation and pause whose deadline the server's clock passed. */
  private void expire() {
    checkScheduledFor = Long.MAX_VALUE;
    if (!session.joined() || !session.isLeader() || leaving) {
      return;
    }
    long now;
    long localBefore = System.currentTimeMillis();
    try {
      now = serverNow();
    } catch (Exception e) {
      log.warn("could not read the server's clock: {}; retrying", e.toString());
      checkScheduledFor = localBefore;
      scheduler.apply(this::expire, Duration.ofMillis(500));
      return;
    }
    Set<String> live = new HashSet<>();
    for (MemberInfo w : session.workers()) {
      live.add(w.id());
    }
    long next = Long.MAX_VALUE;
    for (Reservation r : state.reservations().values()) {
      String id = r.member().id();
      if (live.contains(id) || r.state() == Reservation.State.PRESENT) {
        continue;
      }
      if (r.expiresAtMillis() <= now) {
        if (deleteQuietly(paths.reservation(id), r.version())) {
          log.info("the restart grace of {} ran out: its partitions are placed again", id);
        }
      } else {
        next = Math.min(next, r.expiresAtMillis());
      }
    }
    Optional<Pause> pause = state.pause();
    if (pause.isPresent()) {
      if (pause.get().untilMillis() <= now) {
        if (deleteQuietly(paths.pause(), pause.get().version())) {
          log.info("the maintenance pause of {} ended at its deadline", paths.root());
        }
      } else {
        next = Math.min(next, pause.get().untilMillis());
      }
    }
    if (next != Long.MAX_VALUE) {
      checkScheduledFor = next;
      scheduler.apply(this::expire, Duration.ofMillis(next - now + RECHECK_SLACK_MILLIS));
    }
  }

  /** The server's time: the mtime of a write to the leader's clock node. */
  private long serverNow() throws Exception {
    byte[] data = self.id().getBytes(StandardCharsets.UTF_8);
    try {
      return client.setData().forPath(paths.barrierClock(), data).getMtime();
    } catch (KeeperException.NoNodeException e) {
      try {
        client.create().creatingParentsIfNeeded().forPath(paths.barrierClock(), data);
      } catch (KeeperException.NodeExistsException raced) {
        // created by a leader meanwhile
      }
      return client.setData().forPath(paths.barrierClock(), data).getMtime();
    }
  }

  /**
   * Leaves for a restart: rewrites this member's reservation RESTARTING, which starts its grace.
   * Called before the member's node goes, so that no view ever shows it gone and unreserved. A
   * member an operator drained reserves nothing.
   *
   * @return whether the reservation was written
   * @throws IllegalStateException if the reservation could not be written
   */
  boolean leaveForRestart() {
    if (remoteDrained) {
      // Drained: it holds nothing, and a reservation would pull partitions back. Not marked as
      // leaving, so that the close that follows leaves for good and deletes the drain request.
      return false;
    }
    leaving = true;
    if (!client.getZookeeperClient().isConnected()) {
      throw new IllegalStateException(
          "not connected: the partitions of "
              + self.id()
              + " are reserved when the leader sees it"
              + " gone");
    }
    byte[] data = FleetCodec.reservation(self, Reservation.State.RESTARTING, graceMillis);
    try {
      try {
        client.setData().forPath(paths.reservation(self.id()), data);
      } catch (KeeperException.NoNodeException e) {
        client.create().creatingParentsIfNeeded().forPath(paths.reservation(self.id()), data);
      }
    } catch (Exception e) {
      throw new IllegalStateException(
          "could not reserve the partitions of " + self.id() + " for its restart: " + e, e);
    }
    return true;
  }

  /**
   * Leaves for good: deletes this member's reservation (its partitions move at once) and the drain
   * request of this incarnation. Quiet, and it never waits for a connection: a reservation left
   * behind (no connection) is ended by the leader at its deadline.
   */
  void leave(long incarnation) {
    if (leaving) {
      return; // leaving for a restart: the reservation stays
    }
    leaving = true;
    if (watcher == null || !client.getZookeeperClient().isConnected()) {
      // Never started, or cut off: no call that would wait for a connection. A reservation left
      // behind is marked absent and ended by the leader at its deadline.
      return;
    }
    if (graceMillis > 0 || state.reservations().containsKey(self.id())) {
      deleteQuietly(paths.reservation(self.id()), -1);
    }
    DrainRequest request = state.drains().get(self.id());
    if (request != null && request.incarnation() == incarnation) {
      deleteQuietly(paths.drainRequest(self.id()), request.version());
    }
  }

  private boolean deleteQuietly(String path, int version) {
    try {
      client.delete().withVersion(version).forPath(path);
      return true;
    } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
      return false;
    } catch (Exception e) {
      log.warn("could not delete {}: {}", path, e.toString());
      return false;
    }
  }
}
