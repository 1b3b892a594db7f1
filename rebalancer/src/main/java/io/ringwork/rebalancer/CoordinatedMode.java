package io.ringwork.rebalancer;

import io.ringwork.membership.GroupPaths;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Strategy;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorClosedException;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Coordinated mode ({@code balanced}): the leader computes the next sticky table from the stored
 * one and the eligible members, and publishes it through {@link AssignmentStore}; every worker
 * watches the store's header and installs each newer version.
 */
final class CoordinatedMode extends PartitionMode {

  private static final Logger log = LoggerFactory.getLogger(CoordinatedMode.class);

  private final CuratorFramework client;
  private final GroupPaths paths;
  private final AssignmentStore store;
  private CuratorCache headerCache;
  private AssignmentStore.Stored stored;

  CoordinatedMode(
      Mode.Host host,
      PartitionPlacement placement,
      String selfId,
      CuratorFramework client,
      GroupPaths paths) {
    super(host, placement, selfId);
    this.client = client;
    this.paths = paths;
    this.store = new AssignmentStore(client, paths, placement.partitioner().router());
  }

  @Override
  public void start() {
    headerCache =
        CuratorCache.build(client, paths.assignment(), CuratorCache.Options.SINGLE_NODE_CACHE);
    headerCache.listenable().addListener((type, before, after) -> host.submit(this::readStored));
    headerCache.start();
    host.submit(this::readStored);
  }

  @Override
  public void close() {
    if (headerCache != null) {
      headerCache.close();
    }
  }

  @Override
  public void viewChanged() {
    if (host.session().isLeader()) {
      host.debounce(this::recompute, host.settleDelay());
    }
  }

  @Override
  public void leadershipChanged(boolean leader) {
    if (leader) {
      host.debounce(this::recompute, Duration.ZERO);
    }
  }

  private Optional<Installed> recompute() {
    if (!host.session().isLeader()) {
      return Optional.empty();
    }
    List<Member> members = host.eligible();
    if (members.isEmpty()) {
      return Optional.empty();
    }
    try {
      stored = store.read(stored);
      Assignment previous = stored == null ? null : stored.assignment();
      // The step from the change since the stored table; the same table as assign(previous,
      // members) gives (ring's StepToTest).
      Assignment next = placement.stepTo(previous, members);
      if (previous != null && sameTable(previous, next)) {
        return Optional.empty();
      }
      AssignmentStore.Published published = store.publish(stored, next);
      stored = published.stored();
      host.metrics().bytesWritten(published.bytes());
      log.info(
          "leader {} published assignment v{} for {} members ({} bytes)",
          selfId,
          next.version(),
          members.size(),
          published.bytes());
      Optional<Installed> installed = readStored();
      // A throttled plan needs further steps; take the next one once this one is settled. The
      // wait starts after the driver has applied this table (revoked, acknowledged): the submitted
      // task runs on the event thread after this one, as the debounce did when install() called
      // back into the driver. Nothing here may lose the table just put in force.
      boolean more;
      try {
        more = !sameTable(next, placement.stepTo(next, members));
      } catch (RuntimeException e) {
        log.warn("leader {} could not plan the next step; retrying", selfId, e);
        more = true;
      }
      if (more) {
        host.submit(
            () -> {
              host.debounce(this::recompute, host.settleDelay());
              return Optional.empty();
            });
      }
      return installed;
    } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
      log.info("leader {} lost a publish race; re-reading", selfId);
      stored = null;
      host.debounce(this::recompute, host.settleDelay());
    } catch (CorruptAssignmentException e) {
      log.error("stored assignment of {} is unreadable: {}", paths.root(), e.getMessage());
    } catch (CuratorClosedException e) {
      log.debug("leader {} publishes nothing: the client is closed", selfId);
    } catch (Exception e) {
      log.warn("leader {} could not publish an assignment; retrying", selfId, e);
      host.debounce(this::recompute, host.settleDelay().plusMillis(100));
    }
    return Optional.empty();
  }

  private Optional<Installed> readStored() {
    try {
      // Start from the cache's copy of the header: one read less per member and change.
      ChildData header =
          headerCache == null ? null : headerCache.get(paths.assignment()).orElse(null);
      AssignmentStore.Stored read =
          header == null
              ? store.read(stored)
              : store.read(stored, header.getData(), header.getStat());
      if (read == null) {
        return Optional.empty();
      }
      stored = read;
      Assignment current = current();
      if (current == null || read.assignment().version() > current.version()) {
        return Optional.of(
            install(read.assignment(), HandoffState.version(read.assignment().version())));
      }
    } catch (CorruptAssignmentException e) {
      log.error("stored assignment of {} is unreadable: {}", paths.root(), e.getMessage());
    } catch (CuratorClosedException e) {
      // The rebalancer is closing (a start that failed, a close racing this read): nothing to
      // read any more, and nothing to warn about (CliSafetyIT found this trace in the one-line
      // error of a refused duplicate id, 1 of 3 loop runs).
      log.debug("assignment of {} not read: the client is closed", paths.root());
    } catch (Exception e) {
      log.warn("could not read the assignment of {}; will retry", paths.root(), e);
      host.schedule(this::readStored, Duration.ofMillis(200));
    }
    return Optional.empty();
  }

  @Override
  public boolean matches(List<Member> eligible) {
    Assignment current = current();
    if (current == null) {
      return false;
    }
    if (eligible != matchedList || current != matchedTable) {
      matched = current.members().equals(sortById(eligible));
      matchedList = eligible;
      matchedTable = current;
    }
    return matched;
  }

  private List<Member> matchedList;
  private Assignment matchedTable;
  private boolean matched;

  @Override
  public Strategy strategy() {
    return Strategy.BALANCED;
  }

  private static boolean sameTable(Assignment a, Assignment b) {
    return a.members().equals(b.members()) && Arrays.equals(a.table(), b.table());
  }
}
