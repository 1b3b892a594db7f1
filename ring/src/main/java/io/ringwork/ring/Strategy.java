package io.ringwork.ring;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/** The placement strategies, parsed once at the edge from their names. */
public enum Strategy {
  /** Sticky, exact weighted quotas, minimal movement; a leader publishes the table. */
  BALANCED(Placement.BALANCED),
  /** Stateless weighted highest-random-weight; every worker computes the same table. */
  RENDEZVOUS(Placement.RENDEZVOUS),
  /** OpenStack tooz's {@code HashRing}, key for key. */
  TOOZ(Placement.TOOZ);

  private final String configName;

  Strategy(String configName) {
    this.configName = configName;
  }

  /** Returns the lower-case name used in group configs, cluster files and the CLI. */
  public String configName() {
    return configName;
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
