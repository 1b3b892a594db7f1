package io.ringwork.ring;

import java.util.Arrays;
import java.util.Collection;
import java.util.Objects;

/**
 * A placement that assigns keys through a fixed set of partitions and yields an {@link Assignment}.
 */
public interface PartitionPlacement extends Placement {

  /** Returns the partitioner, which fixes P and the key router. */
  Partitioner partitioner();

  /** Returns the requested owners per partition. */
  int replicas();

  /**
   * Computes the next assignment for {@code members}.
   *
   * @param previous the assignment in force, or {@code null} for none; its version plus one is the
   *     new version
   * @throws IllegalArgumentException if the members are empty or repeat an id, or {@code previous}
   *     has another partition count
   */
  Assignment assign(Assignment previous, Collection<Member> members);

  /**
   * Computes the next assignment from {@code previous} and a change to its members: the same as
   * {@link #assign}{@code (previous, members)} for the members of {@code previous} less {@code
   * left} plus {@code joined}. A member both leaving and joining (by id) stays, with what {@code
   * joined} says about it: that is how a weight or zone change is given. {@link BalancedPlacement}
   * takes the step without the O(N) work on the ids of the members that stay; this default builds
   * the member list and assigns.
   *
   * @param previous the assignment in force
   * @param joined the members that join, in any order
   * @param left the ids of the members that leave
   * @throws IllegalArgumentException if {@code previous} has another partition count, a leaver is
   *     not a member of it, a joiner already is one and does not leave, an id repeats within a
   *     list, or no member is left
   */
  default Assignment step(Assignment previous, Collection<Member> joined, Collection<String> left) {
    Objects.requireNonNull(previous, "previous");
    checkPrevious(previous);
    return assign(previous, Arrays.asList(MemberChange.apply(previous, joined, left).members));
  }

  /**
   * Computes the next assignment for {@code members} as a step from the change since {@code
   * previous}: the same result as {@link #assign}{@code (previous, members)}, that is the same
   * members, version, table, primary counts and moves, for every placement and throttle. It is for
   * a caller that holds the whole member list after a change (a leader's view, a replayed plan)
   * rather than the change itself. {@link BalancedPlacement} finds the change (the joiners, the
   * members that left and those that stay, with any new weight, zone or labels) in one merge of the
   * list with the previous assignment's members, and takes its incremental step from it; this
   * default assigns. A caller that has the change itself should call {@link #step}.
   *
   * @param previous the assignment in force, or {@code null} for none
   * @param members the members after the change, in any order (sorted by id is fastest)
   * @throws IllegalArgumentException if the members are empty or repeat an id, or {@code previous}
   *     has another partition count
   */
  default Assignment stepTo(Assignment previous, Collection<Member> members) {
    return assign(previous, members);
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException also if {@code previous} is not an {@link Assignment}
   */
  @Override
  default Ring place(Ring previous, Collection<Member> members) {
    if (previous != null && !(previous instanceof Assignment)) {
      throw new IllegalArgumentException(
          "the "
              + strategy()
              + " strategy continues from an Assignment, got a ring of strategy '"
              + previous.strategy()
              + "'");
    }
    return assign((Assignment) previous, members);
  }

  /** Checks that a previous assignment fits this placement. */
  default void checkPrevious(Assignment previous) {
    if (previous != null && previous.partitions() != partitioner().partitions()) {
      throw new IllegalArgumentException(
          "previous assignment has "
              + previous.partitions()
              + " partitions, but this placement has "
              + partitioner().partitions()
              + "; the partition count of a group is fixed");
    }
  }
}
