package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.Strategy;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What varies between the rebalancer's modes: where the next state comes from and what a state
 * grants. {@link CoordinatedMode} reads tables its leader publishes, {@link LeaderlessMode}
 * computes them from the view, {@link ToozMode} keeps tooz rings. The {@link Rebalancer} keeps the
 * lifecycle, the session, the {@link Handoff} and the snapshot every reader sees. Every method runs
 * on the rebalancer's event thread.
 */
interface Mode {

  /**
   * What a mode's task put in force: a new state, whose grants in {@code revoked} it has stopped.
   * The rebalancer then runs {@code onRevoked}, acknowledges the new state and activates what the
   * barrier allows. {@code table} is the new assignment (null in tooz mode), for {@code
   * onAssignment}.
   */
  record Installed(Set<Integer> revoked, Assignment table) {}

  /**
   * A mode's own work on the event thread (reading a published table, computing the next one): it
   * returns what it put in force, if anything, and never calls back into the rebalancer.
   */
  @FunctionalInterface
  interface Task {
    Optional<Installed> run();
  }

  /** What a mode needs from the rebalancer that runs it. */
  interface Host {
    GroupSession session();

    /** The eligible members of the view: workers that are not draining. */
    List<Member> eligible();

    /** Runs {@code task} on the event thread. */
    void submit(Task task);

    /** Runs {@code task} on the event thread after {@code delay}. */
    void schedule(Task task, Duration delay);

    /**
     * Runs {@code task} on the event thread after {@code delay}, replacing one scheduled before.
     */
    void debounce(Task task, Duration delay);

    Duration settleDelay();

    RebalancerMetrics metrics();
  }

  /** Starts what the mode watches itself. */
  void start() throws Exception;

  /** Stops it. */
  void close();

  /**
   * The state applied, as acknowledged: a version or a digest; {@link HandoffState#NONE} before the
   * first.
   */
  HandoffState state();

  /** The view changed. */
  void viewChanged();

  /** This member gained or lost the leadership. */
  void leadershipChanged(boolean leader);

  /** Whether some grant of the state in force waits for the barrier. */
  boolean pending();

  /** Activates every pending grant with {@code token}; returns them. */
  List<Grant> activate(long token);

  /** Drops every grant (the session ended, or closing); returns what was active. */
  Set<Integer> dropAll();

  /** After a new incarnation: what the state in force gives this member is pending again. */
  void reset();

  /** Whether the state in force was made for exactly these eligible members. */
  boolean matches(List<Member> eligible);

  /** Whether the state in force gives this member any work. */
  boolean givesWork();

  /** The snapshot readers see. */
  Ownership snapshot(boolean paused);

  /** The strategy stored in the group config. */
  Strategy strategy();

  /** P (or tooz's points per node) stored in the group config. */
  int partitions();

  /** The owners per partition stored in the group config. */
  int replicas();
}
