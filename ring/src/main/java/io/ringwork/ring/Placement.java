package io.ringwork.ring;

import java.util.Collection;
import java.util.Objects;

/**
 * A strategy that computes the next {@link Ring} from the previous one and the live members.
 *
 * <p>Three strategies exist, chosen with {@link Builder#strategy(Strategy)}:
 *
 * <ul>
 *   <li>{@link Strategy#BALANCED} (the default): sticky, exact weighted quotas, minimal movement,
 *       zone aware standbys. See {@link BalancedPlacement}.
 *   <li>{@link Strategy#RENDEZVOUS}: stateless weighted highest-random-weight; every worker
 *       computes the same table from the member set alone. See {@link RendezvousPlacement}.
 *   <li>{@link Strategy#TOOZ}: the ring of OpenStack tooz's {@code HashRing}, key for key, for
 *       fleets that mix Ringwork with Python services. See {@link ToozRing}.
 * </ul>
 */
public interface Placement {

  /** Returns the strategy this placement implements. */
  Strategy strategy();

  /**
   * Computes the ring for {@code members}, starting from {@code previous} when there is one.
   *
   * @param previous the ring in force, or {@code null} for none
   * @throws IllegalArgumentException if the members are empty or repeat an id, a member is not
   *     acceptable to this strategy, or {@code previous} was computed by an incompatible strategy
   */
  Ring place(Ring previous, Collection<Member> members);

  /**
   * Returns a new builder; by default it builds {@link Strategy#BALANCED} over {@value
   * Builder#DEFAULT_PARTITIONS} partitions.
   */
  static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Builds a {@link Placement}. Each setter validates its argument at once and may be called only
   * once.
   */
  final class Builder {

    /**
     * The partition count of the partitioned strategies when none is set: the one definition of
     * that default, which the CLI, the rebalancer and the group config read from here.
     */
    public static final int DEFAULT_PARTITIONS = 4096;

    /** The points per node of the tooz strategy when none is set (tooz's {@code 2**5}). */
    public static final int DEFAULT_TOOZ_POINTS = 32;

    /** The replica count when none is set. */
    public static final int DEFAULT_REPLICAS = 1;

    private Strategy strategy;
    private int partitions = -1;
    private int replicas = -1;
    private KeyRouter router;
    private int maxMovesPerStep = -1;

    Builder() {}

    /**
     * Sets the strategy; {@link Strategy#BALANCED} by default. A name from a file or a command line
     * is turned into a {@link Strategy} at that edge, by {@link Strategy#parse(String)}.
     *
     * @throws IllegalStateException if the strategy was already set
     */
    public Builder strategy(Strategy value) {
      requireUnset(strategy == null, "strategy");
      this.strategy = Objects.requireNonNull(value, "strategy");
      return this;
    }

    /**
     * Sets P for the partitioned strategies (a power of two from 1 to 2^24), or the points per node
     * for {@link Strategy#TOOZ} (tooz's {@code partitions} argument, at least 1).
     *
     * @throws IllegalArgumentException if it is less than 1
     * @throws IllegalStateException if it was already set
     */
    public Builder partitions(int count) {
      requireUnset(partitions < 0, "partitions");
      if (count < 1) {
        throw new IllegalArgumentException("partitions must be at least 1, got " + count);
      }
      this.partitions = count;
      return this;
    }

    /**
     * Sets the number of owners per partition or key: the primary plus {@code replicas - 1}
     * standbys.
     *
     * @throws IllegalArgumentException if it is less than 1
     * @throws IllegalStateException if it was already set
     */
    public Builder replicas(int count) {
      requireUnset(replicas < 0, "replicas");
      Assignment.checkReplicas(count);
      this.replicas = count;
      return this;
    }

    /**
     * Sets the key router of the partitioned strategies; the whole key by default.
     *
     * @throws IllegalStateException if it was already set
     */
    public Builder router(KeyRouter keyRouter) {
      requireUnset(router == null, "router");
      this.router = Objects.requireNonNull(keyRouter, "router");
      return this;
    }

    /**
     * Limits how many partitions {@link Strategy#BALANCED} moves per step to restore balance. The
     * partitions of departed members are always re-homed at once, whatever this says.
     *
     * @throws IllegalArgumentException if it is less than 1
     * @throws IllegalStateException if it was already set
     */
    public Builder maxMovesPerStep(int max) {
      requireUnset(maxMovesPerStep < 0, "maxMovesPerStep");
      if (max < 1) {
        throw new IllegalArgumentException("maxMovesPerStep must be at least 1, got " + max);
      }
      this.maxMovesPerStep = max;
      return this;
    }

    /**
     * Builds the placement.
     *
     * @throws IllegalArgumentException if a setting does not apply to the strategy: P not a power
     *     of two for a partitioned strategy, a router or a throttle for {@link Strategy#TOOZ}, a
     *     throttle for {@link Strategy#RENDEZVOUS}
     */
    public Placement build() {
      Strategy chosen = strategy == null ? Strategy.BALANCED : strategy;
      int r = replicas < 0 ? DEFAULT_REPLICAS : replicas;
      if (chosen == Strategy.TOOZ) {
        if (router != null) {
          throw new IllegalArgumentException(
              "a key router does not apply to the tooz strategy, which hashes whole keys");
        }
        if (maxMovesPerStep > 0) {
          throw new IllegalArgumentException(
              "maxMovesPerStep applies only to the balanced strategy, not tooz");
        }
        return new ToozPlacement(partitions < 0 ? DEFAULT_TOOZ_POINTS : partitions, r);
      }
      Partitioner partitioner =
          Partitioner.of(
              partitions < 0 ? DEFAULT_PARTITIONS : partitions,
              router == null ? KeyRouter.wholeKey() : router);
      if (chosen == Strategy.RENDEZVOUS) {
        if (maxMovesPerStep > 0) {
          throw new IllegalArgumentException(
              "maxMovesPerStep applies only to the balanced strategy, not rendezvous");
        }
        return new RendezvousPlacement(partitioner, r);
      }
      return new BalancedPlacement(
          partitioner, r, maxMovesPerStep < 0 ? Integer.MAX_VALUE : maxMovesPerStep);
    }

    /**
     * Builds a partitioned placement ({@link Strategy#BALANCED} or {@link Strategy#RENDEZVOUS}),
     * typed so that no caller casts.
     *
     * @throws IllegalArgumentException if the strategy is {@link Strategy#TOOZ}, or as {@link
     *     #build()}
     */
    public PartitionPlacement buildPartitioned() {
      if (strategy == Strategy.TOOZ) {
        throw new IllegalArgumentException(
            "the tooz strategy maps keys directly and has no partitions; use build() for it");
      }
      return (PartitionPlacement) build();
    }

    private static void requireUnset(boolean unset, String what) {
      if (!unset) {
        throw new IllegalStateException(what + " was already set");
      }
    }
  }
}
