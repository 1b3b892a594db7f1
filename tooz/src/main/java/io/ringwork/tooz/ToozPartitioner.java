package io.ringwork.tooz;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.ringwork.membership.GroupAccessException;
import io.ringwork.ring.Member;
import io.ringwork.ring.ToozRing;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;

/**
 * tooz's {@code Partitioner} in Java: a member of a tooz group ({@link ToozGroup}, the layout of
 * {@code join_partitioned_group}) that answers {@link #belongsToSelf} and {@link #membersForObject}
 * exactly as the Python Partitioner does for string keys, so that Java and Python workers split one
 * group's resources (Ceilometer's central agents, say).
 *
 * <p>The ring is tooz's ({@link ToozRing}): every member readable as tooz reads it, at its weight,
 * with {@code pointsPerWeight} points per unit of weight (tooz's {@code partitions}, 32 by default
 * as in Ceilometer; it is not stored in ZooKeeper, so configure the same value everywhere). A key
 * hashes as the UTF-8 of its string, as tooz hashes {@code str(obj)}. The ring is rebuilt from the
 * whole child list on every change. The rules are those of {@code docs/tooz.md}, section 5.
 *
 * <p>What holds across languages: Python members see a change only when they poll ({@code
 * run_watchers()}), so a Java and a Python member agree on every key once both have seen the same
 * member set, and may disagree in between. There is no handoff protocol with Python members (they
 * take part in none): exclusive work needs {@link ToozLocks} locks on the resource, which tooz's
 * own locks respect.
 *
 * <p>Metrics under {@code ringwork.tooz.<group>.<member>.}: {@code badChildren} (children Python
 * members fail on, or zombies), {@code members}, {@code ringChanges}.
 */
public final class ToozPartitioner implements AutoCloseable {

  private final ToozGroup group;
  private final int pointsPerWeight;
  private final int replicas;
  private final List<Consumer<ToozRing>> listeners = new CopyOnWriteArrayList<>();
  private volatile ToozRing ring;
  private volatile ToozGroup.Snapshot snapshot = new ToozGroup.Snapshot(List.of(), 0);
  private final Counter ringChanges;

  private ToozPartitioner(Builder b) {
    if (b.pointsPerWeight < 1) {
      throw new IllegalArgumentException(
          "points per weight (tooz's partitions) must be at least 1, got " + b.pointsPerWeight);
    }
    if (b.replicas < 1) {
      throw new IllegalArgumentException("replicas must be at least 1, got " + b.replicas);
    }
    this.pointsPerWeight = b.pointsPerWeight;
    this.replicas = b.replicas;
    this.group =
        ToozGroup.newBuilder()
            .client(b.client)
            .namespace(b.namespace)
            .group(b.group)
            .memberId(Objects.requireNonNull(b.memberId, "memberId"))
            .weight(b.weight)
            .credentials(b.credentials)
            .build();
    MetricRegistry registry = b.metrics != null ? b.metrics : new MetricRegistry();
    String prefix = "ringwork.tooz." + b.group + "." + b.memberId + ".";
    registry.register(prefix + "badChildren", (Gauge<Integer>) () -> snapshot.problems().size());
    registry.register(prefix + "members", (Gauge<Integer>) () -> snapshot.members().size());
    ringChanges = registry.counter(prefix + "ringChanges");
    group.onChange(this::rebuild);
  }

  /** Returns a builder. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Joins the group and builds the first ring; on a failure the group is left as {@link
   * ToozGroup#start()} leaves it (closed, nothing behind).
   *
   * @throws IllegalStateException if the member id is taken by another live session or a persistent
   *     node
   * @throws GroupAccessException if ZooKeeper cannot be read or written; names the group's path
   */
  public ToozPartitioner start() {
    group.start();
    rebuild(group.snapshot());
    return this;
  }

  private synchronized void rebuild(ToozGroup.Snapshot s) {
    if (sameMembers(s, snapshot) && ring != null) {
      snapshot = s;
      return; // a change tooz's ring does not see (a bad child came or went)
    }
    ToozRing next = ring(s, pointsPerWeight, replicas); // first: a failure keeps both as they were
    snapshot = s;
    ring = next;
    ringChanges.inc();
    for (Consumer<ToozRing> l : listeners) {
      l.accept(next);
    }
  }

  private static boolean sameMembers(ToozGroup.Snapshot a, ToozGroup.Snapshot b) {
    List<ToozGroup.Child> x = a.members();
    List<ToozGroup.Child> y = b.members();
    if (x.size() != y.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      if (!x.get(i).id().equals(y.get(i).id()) || x.get(i).weight() != y.get(i).weight()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Builds tooz's ring of a group snapshot: its readable members at their weights; null when it has
   * none.
   */
  public static ToozRing ring(ToozGroup.Snapshot s, int pointsPerWeight, int replicas) {
    List<Member> members = new ArrayList<>();
    for (ToozGroup.Child c : s.members()) {
      members.add(Member.of(c.id(), c.weight()));
    }
    return members.isEmpty() ? null : ToozRing.of(members, pointsPerWeight, replicas);
  }

  /** Calls {@code listener} with each new ring (on the group's thread). */
  public void onRingChange(Consumer<ToozRing> listener) {
    listeners.add(listener);
  }

  /** Returns the current ring, or null while the group has no readable member. */
  public ToozRing ring() {
    return ring;
  }

  /** Returns the group as last read, with any children Python members fail on. */
  public ToozGroup.Snapshot snapshot() {
    return snapshot;
  }

  /** Returns this member's id. */
  public String memberId() {
    return group.memberId();
  }

  /** {@code members_for_object(key)} with this partitioner's replicas. */
  public Set<String> membersForObject(String key) {
    return membersForObject(key, replicas);
  }

  /**
   * tooz's {@code members_for_object(key, replicas=replicas)}: the owners of a string key, in ring
   * order (tooz returns them as a set).
   */
  public Set<String> membersForObject(String key, int replicas) {
    ToozRing r = ring;
    if (r == null) {
      return Set.of();
    }
    Set<String> out = new LinkedHashSet<>();
    for (Member m : r.owners(key, replicas, Set.of())) {
      out.add(m.id());
    }
    return Collections.unmodifiableSet(out);
  }

  /** tooz's {@code belongs_to_self(key)} with this partitioner's replicas. */
  public boolean belongsToSelf(String key) {
    return membersForObject(key).contains(group.memberId());
  }

  /** tooz's {@code belongs_to_self(key, replicas=replicas)}. */
  public boolean belongsToSelf(String key, int replicas) {
    return membersForObject(key, replicas).contains(group.memberId());
  }

  /** Leaves the group. The client stays open. */
  @Override
  public void close() {
    group.close();
  }

  /** Builds a {@link ToozPartitioner}. */
  public static final class Builder {
    private CuratorFramework client;
    private String namespace = ToozGroup.DEFAULT_NAMESPACE;
    private String group;
    private String memberId;
    private int weight = 1;
    private int pointsPerWeight = 32;
    private int replicas = 1;
    private String credentials;
    private MetricRegistry metrics;

    private Builder() {}

    /** The started Curator client (the caller's). */
    public Builder client(CuratorFramework client) {
      this.client = client;
      return this;
    }

    /** tooz's namespace, {@code tooz} by default. */
    public Builder namespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    /** The group id. */
    public Builder group(String group) {
      this.group = group;
      return this;
    }

    /** This member's id (ASCII). */
    public Builder memberId(String memberId) {
      this.memberId = memberId;
      return this;
    }

    /** This member's weight, a positive integer written once (1 by default). */
    public Builder weight(int weight) {
      this.weight = weight;
      return this;
    }

    /** tooz's {@code partitions}: ring points per unit of weight (32 by default). */
    public Builder pointsPerWeight(int pointsPerWeight) {
      this.pointsPerWeight = pointsPerWeight;
      return this;
    }

    /** Owners per key for {@link #membersForObject(String)} (1 by default). */
    public Builder replicas(int replicas) {
      this.replicas = replicas;
      return this;
    }

    /** {@code user:password} of tooz's digest ACL. */
    public Builder credentials(String credentials) {
      this.credentials = credentials;
      return this;
    }

    /** Where metrics go (a private registry by default). */
    public Builder metrics(MetricRegistry metrics) {
      this.metrics = metrics;
      return this;
    }

    /** Builds the partitioner; {@link ToozPartitioner#start()} joins. */
    public ToozPartitioner build() {
      return new ToozPartitioner(this);
    }
  }
}
