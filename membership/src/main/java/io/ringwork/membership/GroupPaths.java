package io.ringwork.membership;

import java.util.Objects;

/**
 * The one place that knows a group's ZooKeeper layout.
 *
 * <pre>
 * &lt;namespace&gt;/&lt;group&gt;/config              persistent: P, hash, strategy, replicas
 * &lt;namespace&gt;/&lt;group&gt;/members/&lt;id&gt;        ephemeral: member data (JSON)
 * &lt;namespace&gt;/&lt;group&gt;/leader/...            Curator LeaderLatch of the workers
 * &lt;namespace&gt;/&lt;group&gt;/assignment          header of the stored assignment (coordinated mode)
 * &lt;namespace&gt;/&lt;group&gt;/assignment-data/...  its base chunks and deltas
 * &lt;namespace&gt;/&lt;group&gt;/acks/&lt;id&gt;           ephemeral: the state a worker has applied
 * &lt;namespace&gt;/&lt;group&gt;/barrier             persistent: the leader's "handoff complete" record
 * &lt;namespace&gt;/&lt;group&gt;/barrier-clock       persistent: the leader's read point before a barrier
 * &lt;namespace&gt;/&lt;group&gt;/locks/&lt;p&gt;/&lt;rk&gt;/... per-key lock queues: persistent per partition p,
 *                                       a container per routing key rk (see io.ringwork.lock)
 * &lt;namespace&gt;/&lt;group&gt;/lock-mail/&lt;id&gt;      persistent: poked when a member's lock is broken or
 *                                       asked back, so that holders need no watch per lock
 * &lt;namespace&gt;/&lt;group&gt;/lock-breaks/b-N     persistent sequential: who broke which lock, when
 *                                       (the newest 100, none over 7 days; see io.ringwork.lock)
 * &lt;namespace&gt;/&lt;group&gt;/fleet/reservations/&lt;id&gt; persistent: a member's restart reservation
 * &lt;namespace&gt;/&lt;group&gt;/fleet/pause         persistent: a maintenance pause and its deadline
 * &lt;namespace&gt;/&lt;group&gt;/fleet/drain/&lt;id&gt;     persistent: an operator's request that a member drain
 * </pre>
 *
 * @param root the group's node, for example {@code /ringwork/conductors}
 */
public record GroupPaths(String root) {

  /** Checks the root path. */
  public GroupPaths {
    Objects.requireNonNull(root, "root");
    if (!root.startsWith("/") || root.endsWith("/")) {
      throw new IllegalArgumentException(
          "a group root must be absolute without a trailing '/', got '" + root + "'");
    }
  }

  /**
   * Returns the paths of a group under a namespace.
   *
   * @throws IllegalArgumentException if the namespace or group is malformed
   */
  public static GroupPaths of(String namespace, String group) {
    Membership.checkNamespace(namespace);
    Membership.checkGroup(group);
    return new GroupPaths((namespace.equals("/") ? "" : namespace) + "/" + group);
  }

  /** Returns the stored group configuration's node. */
  public String config() {
    return root + "/config";
  }

  /** Returns the parent of the member nodes. */
  public String members() {
    return root + "/members";
  }

  /** Returns a member's node. */
  public String member(String id) {
    return members() + "/" + id;
  }

  /** Returns the leader latch's node. */
  public String leader() {
    return root + "/leader";
  }

  /** Returns the stored assignment's header node. */
  public String assignment() {
    return root + "/assignment";
  }

  /** Returns the parent of the stored assignment's chunks and deltas. */
  public String assignmentData() {
    return root + "/assignment-data";
  }

  /** Returns the parent of the acknowledgement nodes. */
  public String acks() {
    return root + "/acks";
  }

  /** Returns a worker's acknowledgement node. */
  public String ack(String id) {
    return acks() + "/" + id;
  }

  /** Returns the handoff barrier the leader writes. */
  public String barrier() {
    return root + "/barrier";
  }

  /** Returns the node the leader writes to fix a read point before it checks acknowledgements. */
  public String barrierClock() {
    return root + "/barrier-clock";
  }

  /** Returns the parent of the per-partition lock nodes. */
  public String locks() {
    return root + "/locks";
  }

  /** Returns the persistent node under which the lock queues of one partition live. */
  public String lockPartition(int partition) {
    if (partition < 0) {
      throw new IllegalArgumentException("partition must be >= 0, got " + partition);
    }
    return locks() + "/" + partition;
  }

  /** Returns the node a member watches to learn that one of its locks was broken or asked back. */
  public String lockMail(String member) {
    return root + "/lock-mail/" + member;
  }

  /** Returns the parent of the records of forced lock breaks. */
  public String lockBreaks() {
    return root + "/lock-breaks";
  }

  /** Returns the parent of the operators' controls: reservations, the pause, drain requests. */
  public String fleet() {
    return root + "/fleet";
  }

  /** Returns the parent of the restart reservations. */
  public String reservations() {
    return fleet() + "/reservations";
  }

  /** Returns a member's restart reservation. */
  public String reservation(String id) {
    return reservations() + "/" + id;
  }

  /** Returns the maintenance pause's node. */
  public String pause() {
    return fleet() + "/pause";
  }

  /** Returns the parent of the drain requests. */
  public String drainRequests() {
    return fleet() + "/drain";
  }

  /** Returns the request that a member drain. */
  public String drainRequest(String id) {
    return drainRequests() + "/" + id;
  }
}
