package io.ringwork.ring;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * The placement strategies. Below the edges (the CLI, the group config and the wire codecs), a
 * strategy is always this type; {@link #parse(String)} is the one place a name becomes a strategy.
 */
public enum Strategy {
  /** Sticky, exact weighted quotas, minimal movement; a leader publishes the table. */
  BALANCED("balanced"),
  /** Stateless weighted highest-random-weight; every worker computes the same table. */
  RENDEZVOUS("rendezvous"),
  /**
   * OpenStack tooz's {@code HashRing}, key for key, inside Ringwork's own group layout. (Joining a
   * group in tooz's own layout, created by tooz's Python services, is the {@code ringwork-tooz}
   * module's {@code io.ringwork.tooz} package, not a strategy.)
   */
  TOOZ("tooz");

  private final String configName;

  Strategy(String configName) {
    this.configName = configName;
  }

  /** Returns the lower-case name used in group configs, cluster files and the CLI. */
  public String configName() {
    return configName;
  }

  /**
   * Returns what {@link Placement.Builder#partitions(int)} defaults to for this strategy: P
   * ({@value Placement.Builder#DEFAULT_PARTITIONS}) for the partitioned strategies, the points per
   * node ({@value Placement.Builder#DEFAULT_TOOZ_POINTS}) for {@link #TOOZ}.
   */
  public int defaultPartitions() {
    return this == TOOZ
        ? Placement.Builder.DEFAULT_TOOZ_POINTS
        : Placement.Builder.DEFAULT_PARTITIONS;
  }

  /** Returns whether keys go through a fixed set of partitions: all but {@link #TOOZ}. */
  public boolean partitioned() {
    return this != TOOZ;
  }

  /**
   * Parses a strategy name, ignoring case and surrounding blanks.
   *
   * @throws IllegalArgumentException naming the value and the accepted names if it is unknown
   */
  public static Strategy parse(String name) {
    Objects.requireNonNull(name, "strategy");
    String normalized = name.trim().toLowerCase(Locale.ROOT);
    for (Strategy s : values()) {
      if (s.configName.equals(normalized)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown strategy '"
            + name
            + "', expected one of "
            + Arrays.stream(values()).map(Strategy::configName).toList());
  }

  @Override
  public String toString() {
    return configName;
  }
}
