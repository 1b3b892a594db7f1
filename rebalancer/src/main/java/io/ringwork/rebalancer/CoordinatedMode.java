package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Strategy;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Coordinated mode ({@code balanced}): the leader computes the next sticky table from the stored
 * one and the eligible members, and publishes it through the {@link HandoffStore} ({@link
 * AssignmentStore} in ZooKeeper); every worker watches the published header and installs each newer
 * version.
 */
final class CoordinatedMode extends PartitionMode {

  private static final Logger log = LoggerFactory.getLogger(CoordinatedMode.class);

  private final HandoffStore store;
  private final String root;
  private HandoffStore.Watch headerWatch;
  private AssignmentStore.Stored stored;

  /** {@code root} names the group in logs (its path). */
  CoordinatedMode(
      Mode.Host host,
      PartitionPlacement placement,
      String selfId,
      HandoffStore store,
      String root) {
    super(host, placement, selfId);
    this.store = store;
    this.root = root;
  }

  @Override
  public void start() {
    headerWatch = store.watchAssignment(() -> host.submit(this::readStored));
    host.submit(this::readStored);
  }

  @Override
  public void close() {
    if (headerWatch != null) {
      headerWatch.close();
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
      stored = store.readAssignment(stored);
      Assignment previous = stored == null ? null : stored.assignment();
      // The step from the change since the stored table; the same table as assign(previous,
      // members) gives (ring's StepToTest).
      Assignment next = placement.stepTo(previous, members);
      if (previous != null && sameTable(previous, next)) {
        return Optional.empty();
      }
      Optional<AssignmentStore.Published> won = store.publishAssignment(stored, next);
      if (won.isEmpty()) {
        log.info("leader {} lost a publish race; re-reading", selfId);
        stored = null;
        host.debounce(this::recompute, host.settleDelay());
        return Optional.empty();
      }
      AssignmentStore.Published published = won.get();
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
    } catch (CorruptAssignmentException e) {
      log.error("stored assignment of {} is unreadable: {}", root, e.getMessage());
    } catch (HandoffStore.ClosedException e) {
      log.debug("leader {} publishes nothing: the client is closed", selfId);
    } catch (Exception e) {
      log.warn("leader {} could not publish an assignment; retrying", selfId, e);
      host.debounce(this::recompute, host.settleDelay().plusMillis(100));
    }
    return Optional.empty();
  }

  private Optional<Installed> readStored() {
    try {
      // Start from the watch's copy of the header: one read less per member and change.
      AssignmentStore.Stored read = store.readWatchedAssignment(stored);
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
      log.error("stored assignment of {} is unreadable: {}", root, e.getMessage());
    } catch (HandoffStore.ClosedException e) {
      // The rebalancer is closing (a start that failed, a close racing this read): nothing to
      // read any more, and nothing to warn about (CliSafetyIT found this trace in the one-line
      // error of a refused duplicate id, 1 of 3 loop runs).
      log.debug("assignment of {} not read: the client is closed", root);
    } catch (Exception e) {
      log.warn("could not read the assignment of {}; will retry", root, e);
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
