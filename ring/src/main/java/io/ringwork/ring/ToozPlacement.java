package io.ringwork.ring;

import java.util.Collection;

/** The placement that builds a {@link ToozRing}: tooz's ring, key for key. */
final class ToozPlacement implements Placement {

  private final int pointsPerNode;
  private final int replicas;

  ToozPlacement(int pointsPerNode, int replicas) {
    this.pointsPerNode = pointsPerNode;
    this.replicas = replicas;
  }

  @Override
  public Strategy strategy() {
    return Strategy.TOOZ;
  }

  /**
   * {@inheritDoc}
   *
   * <p>The tooz ring is stateless, so {@code previous} is ignored.
   *
   * @throws IllegalArgumentException also if a weight is not a whole number
   */
  @Override
  public Ring place(Ring previous, Collection<Member> members) {
    return ToozRing.of(members, pointsPerNode, replicas);
  }

  @Override
  public String toString() {
    return "ToozPlacement{pointsPerNode=" + pointsPerNode + ", replicas=" + replicas + "}";
  }
}
