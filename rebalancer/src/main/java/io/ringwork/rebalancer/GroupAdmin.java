package io.ringwork.rebalancer;

import io.ringwork.membership.GroupAccessException;
import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.Membership;
import io.ringwork.rebalancer.FleetState.Pause;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * An operator's controls over a live group, on the admin side (the {@code ringwork pause}, {@code
 * resume} and {@code drain} commands use it): a maintenance pause that ends by itself, and the
 * drain of another member. It writes only under {@code <group>/fleet}; the members act on what it
 * writes. It never creates a group.
 *
 * <p>A pause freezes placement: until its deadline (the server's time) the group places only the
 * members present when it began, so joiners get nothing and nothing moves, except the partitions of
 * members that are gone (no live node and no reservation), which are re-owned at once (availability
 * first). A drained member hands its partitions over and stays in the group with none until it
 * leaves or is undrained.
 *
 * <p>Errors: every ZooKeeper failure is an unchecked {@link GroupAccessException} naming the path;
 * a missing group or an unknown member is an {@link IllegalArgumentException} naming it.
 */
public final class GroupAdmin {

  private final CuratorFramework client;
  private final GroupPaths paths;
  private final String by;

  private GroupAdmin(CuratorFramework client, GroupPaths paths, String by) {
    this.client = client;
    this.paths = paths;
    this.by = by;
  }

  /**
   * Returns the controls of the group at {@code groupPath} ({@code <namespace>/<group>}) over a
   * started client; {@code by} names the operator in what it writes ("" for none).
   *
   * @throws IllegalArgumentException if the group does not exist (no config), naming the path
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public static GroupAdmin of(CuratorFramework client, String groupPath, String by) {
    GroupPaths paths = new GroupPaths(groupPath);
    Stat config =
        GroupAccessException.call(
            paths.config(), () -> client.checkExists().forPath(paths.config()));
    if (config == null) {
      throw new IllegalArgumentException(
          "no group at " + groupPath + " (no " + paths.config() + ")");
    }
    return new GroupAdmin(client, paths, Objects.requireNonNull(by, "by"));
  }

  /**
   * Pauses the group for {@code duration}, replacing a pause in place (its deadline starts again).
   * The members placed while it lasts are those placed now: the live workers that are not draining
   * and the reserved members.
   *
   * @return the pause as stored
   * @throws IllegalArgumentException if the duration is not positive
   * @throws GroupAccessException if ZooKeeper cannot be read or written
   */
  public Pause pause(Duration duration, String reason) {
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("a pause must last a positive time, got " + duration);
    }
    List<String> members = new ArrayList<>();
    for (var m : FleetState.read(client, paths).placed(liveWorkers())) {
      members.add(m.id());
    }
    byte[] data = FleetCodec.pause(reason == null ? "" : reason, by, duration.toMillis(), members);
    Stat stat =
        GroupAccessException.call(
            paths.pause(),
            () -> {
              Stat created = new Stat();
              try {
                client
                    .create()
                    .creatingParentsIfNeeded()
                    .storingStatIn(created)
                    .forPath(paths.pause(), data);
                return created;
              } catch (KeeperException.NodeExistsException e) {
                return client.setData().forPath(paths.pause(), data);
              }
            });
    return FleetCodec.pause(data, stat);
  }

  /**
   * Ends the pause now.
   *
   * @return whether there was one
   * @throws GroupAccessException if ZooKeeper cannot be written
   */
  public boolean resume() {
    return delete(paths.pause());
  }

  /**
   * Asks a live worker to drain: it hands its partitions over and stays, with none, until it leaves
   * or {@link #undrain(String)}. The request holds for the member's current incarnation.
   *
   * @throws IllegalArgumentException if no live worker has that id
   * @throws GroupAccessException if ZooKeeper cannot be read or written
   */
  public void drain(String member) {
    MemberInfo target = liveWorker(member);
    byte[] data = FleetCodec.drain(target.incarnation(), by);
    String path = paths.drainRequest(member);
    GroupAccessException.call(
        path,
        () -> {
          try {
            client.create().creatingParentsIfNeeded().forPath(path, data);
          } catch (KeeperException.NodeExistsException e) {
            client.setData().forPath(path, data);
          }
          return null;
        });
  }

  /**
   * Withdraws a drain request: the member takes work again.
   *
   * @return whether there was one
   * @throws GroupAccessException if ZooKeeper cannot be written
   */
  public boolean undrain(String member) {
    return delete(paths.drainRequest(member));
  }

  /**
   * Reads the group's controls.
   *
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public FleetState controls() {
    return FleetState.read(client, paths);
  }

  /**
   * Returns the pause in place, if any.
   *
   * @throws GroupAccessException if ZooKeeper cannot be read
   */
  public Optional<Pause> pauseInPlace() {
    return controls().pause();
  }

  /** Deletes {@code path}; whether it was there. */
  private boolean delete(String path) {
    return GroupAccessException.call(
        path,
        () -> {
          try {
            client.delete().forPath(path);
            return true;
          } catch (KeeperException.NoNodeException e) {
            return false;
          }
        });
  }

  private MemberInfo liveWorker(String id) {
    for (MemberInfo m : liveWorkers()) {
      if (m.id().equals(id)) {
        return m;
      }
    }
    TreeSet<String> ids = new TreeSet<>();
    liveWorkers().forEach(m -> ids.add(m.id()));
    throw new IllegalArgumentException(
        "no live worker '" + id + "' in " + paths.root() + "; live workers: " + ids);
  }

  private List<MemberInfo> liveWorkers() {
    List<MemberInfo> out = new ArrayList<>();
    List<String> ids =
        GroupAccessException.call(
            paths.members(),
            () -> {
              try {
                return client.getChildren().forPath(paths.members());
              } catch (KeeperException.NoNodeException e) {
                return List.<String>of();
              }
            });
    for (String id : ids) {
      MemberInfo m =
          GroupAccessException.call(
              paths.member(id),
              () -> {
                Stat stat = new Stat();
                try {
                  byte[] data = client.getData().storingStatIn(stat).forPath(paths.member(id));
                  return Membership.readMember(id, data, stat);
                } catch (KeeperException.NoNodeException | IllegalArgumentException gone) {
                  return null; // left meanwhile, or unreadable: members leave it out of their views
                }
              });
      if (m != null && m.isWorker()) {
        out.add(m);
      }
    }
    return out;
  }
}
