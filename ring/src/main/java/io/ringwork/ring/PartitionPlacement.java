package io.ringwork.ring;

import java.util.Collection;

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
