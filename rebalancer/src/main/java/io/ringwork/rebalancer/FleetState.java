package io.ringwork.rebalancer;

import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.MemberInfo;
import io.ringwork.ring.Member;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The operators' controls of a group as stored under {@code <group>/fleet}: restart reservations,
 * the maintenance pause and drain requests. Immutable; times are the ZooKeeper server's (a node's
 * mtime), never a member's clock.
 *
 * <p>The one rule that turns them into placement is {@link #placed(List)}: the members a table is
 * computed for. Every worker (leaderless) and the leader (coordinated) apply it to the same stored
 * controls, so they agree on the table as they agree on the view.
 *
 * @param reservations restart reservations by member id
 * @param pause the maintenance pause, if one is stored
 * @param drains drain requests by member id
 */
public record FleetState(
    SortedMap<String, Reservation> reservations,
    Optional<Pause> pause,
    SortedMap<String, DrainRequest> drains) {

  /** No controls. */
  public static final FleetState NONE =
      new FleetState(new TreeMap<>(), Optional.empty(), new TreeMap<>());

  /** Copies the maps. */
  public FleetState {
    reservations = Collections.unmodifiableSortedMap(new TreeMap<>(reservations));
    drains = Collections.unmodifiableSortedMap(new TreeMap<>(drains));
  }

  /**
   * A member's restart reservation: while the member is away, its partitions stay its own (and
   * unowned) until {@link #expiresAtMillis()}.
   *
   * @param member the member as it was placed (id, weight, zone, labels)
   * @param state whether it is there, restarting, or gone without a word
   * @param graceMillis how long it is held once the member is away
   * @param sinceMillis the server's time of the last write (the node's mtime): the start of the
   *     grace for {@link State#RESTARTING} and {@link State#ABSENT}
   * @param version the node's version, for compare-and-set
   */
  public record Reservation(
      Member member, State state, long graceMillis, long sinceMillis, int version) {

    /** Where the reserved member stands. */
    public enum State {
      /** The member is live; nothing runs down. */
      PRESENT,
      /** The member left to restart ({@code closeForRestart()}); the grace runs. */
      RESTARTING,
      /** The member's session ended without a word; the leader started the grace. */
      ABSENT
    }

    /** The server time at which the reservation ends, or 0 while the member is present. */
    public long expiresAtMillis() {
      return state == State.PRESENT ? 0 : sinceMillis + graceMillis;
    }
  }

  /**
   * A maintenance pause: until {@link #untilMillis()} only the members in {@code members} are
   * placed, so nothing moves but the partitions of members that are gone.
   *
   * @param reason the operator's reason, "" when none was given
   * @param by who paused, "" when unknown
   * @param sinceMillis the server's time of the write (the node's mtime)
   * @param forMillis how long it lasts
   * @param members the members placed while it lasts: those present when it began
   * @param version the node's version, for compare-and-set
   */
  public record Pause(
      String reason,
      String by,
      long sinceMillis,
      long forMillis,
      List<String> members,
      int version) {

    /** Copies the list. */
    public Pause {
      members = List.copyOf(members);
    }

    /** The server time at which the pause ends by itself. */
    public long untilMillis() {
      return sinceMillis + forMillis;
    }
  }

  /**
   * An operator's request that one incarnation of a member drain.
   *
   * @param member the member asked
   * @param incarnation the incarnation asked (the zxid that created its member node)
   * @param by who asked, "" when unknown
   * @param sinceMillis the server's time of the request
   * @param version the version of the request's node when read: a member deletes only the request
   *     it read, never one an operator wrote since
   */
  public record DrainRequest(
      String member, long incarnation, String by, long sinceMillis, int version) {}

  /** Returns whether a drain is requested of this incarnation of a member. */
  public boolean drainRequested(String member, long incarnation) {
    DrainRequest r = drains.get(member);
    return r != null && r.incarnation() == incarnation;
  }

  /**
   * The members a table is computed for, from the live workers: every live worker that is not
   * draining, plus every member that holds a reservation and is not live (its partitions stay its
   * own, unowned, and the others' quotas do not change). While paused, only the members the pause
   * names, and among them draining ones too: nothing moves but the partitions of members that are
   * gone (no live node and no reservation). Sorted by id.
   */
  public List<Member> placed(List<MemberInfo> workers) {
    if (reservations.isEmpty() && pause.isEmpty() && sortedById(workers)) {
      // The common case, in one pass: every member of a group computes this on every change.
      List<Member> out = new ArrayList<>(workers.size());
      for (MemberInfo w : workers) {
        if (!w.draining()) {
          out.add(w.member());
        }
      }
      return Collections.unmodifiableList(out);
    }
    Map<String, Member> out = new TreeMap<>();
    Set<String> live = new HashSet<>();
    Set<String> frozen = pause.map(p -> Set.copyOf(p.members())).orElse(null);
    for (MemberInfo w : workers) {
      live.add(w.id());
      if (frozen != null ? frozen.contains(w.id()) : !w.draining()) {
        out.put(w.id(), w.member());
      }
    }
    for (Reservation r : reservations.values()) {
      String id = r.member().id();
      if (!live.contains(id) && (frozen == null || frozen.contains(id))) {
        out.put(id, r.member());
      }
    }
    return Collections.unmodifiableList(new ArrayList<>(out.values()));
  }

  private static boolean sortedById(List<MemberInfo> workers) {
    for (int i = 1; i < workers.size(); i++) {
      if (workers.get(i - 1).id().compareTo(workers.get(i).id()) >= 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Reads a group's controls once, for tools and for a leader that must not trust its cache.
   *
   * @throws GroupAccessException if ZooKeeper cannot be read, naming the path
   */
  public static FleetState read(CuratorFramework client, GroupPaths paths) {
    SortedMap<String, Reservation> reservations = new TreeMap<>();
    for (String id : children(client, paths.reservations())) {
      Stat stat = new Stat();
      try {
        byte[] data = client.getData().storingStatIn(stat).forPath(paths.reservation(id));
        Reservation r = FleetCodec.reservation(id, data, stat);
        if (r != null) {
          reservations.put(id, r);
        }
      } catch (KeeperException.NoNodeException gone) {
        // deleted meanwhile
      } catch (Exception e) {
        throw GroupAccessException.of(paths.reservation(id), e);
      }
    }
    Optional<Pause> pause = Optional.empty();
    try {
      Stat stat = new Stat();
      byte[] data = client.getData().storingStatIn(stat).forPath(paths.pause());
      pause = Optional.ofNullable(FleetCodec.pause(data, stat));
    } catch (KeeperException.NoNodeException none) {
      // not paused
    } catch (Exception e) {
      throw GroupAccessException.of(paths.pause(), e);
    }
    SortedMap<String, DrainRequest> drains = new TreeMap<>();
    for (String id : children(client, paths.drainRequests())) {
      Stat stat = new Stat();
      try {
        byte[] data = client.getData().storingStatIn(stat).forPath(paths.drainRequest(id));
        DrainRequest d = FleetCodec.drain(id, data, stat);
        if (d != null) {
          drains.put(id, d);
        }
      } catch (KeeperException.NoNodeException gone) {
        // withdrawn meanwhile
      } catch (Exception e) {
        throw GroupAccessException.of(paths.drainRequest(id), e);
      }
    }
    return new FleetState(reservations, pause, drains);
  }

  private static List<String> children(CuratorFramework client, String path) {
    try {
      return client.getChildren().forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    } catch (Exception e) {
      throw GroupAccessException.of(path, e);
    }
  }
}
