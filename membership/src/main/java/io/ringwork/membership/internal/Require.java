package io.ringwork.membership.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * The checks Ringwork's builders share (the membership's connection settings, the rebalancer's
 * builder), so that a setter's error reads the same in each: "revokeDeadline must be positive, got
 * PT0S", "group was already set". For Ringwork's modules, not an API.
 */
public final class Require {

  private Require() {}

  /**
   * Returns {@code d} when it is positive.
   *
   * @throws NullPointerException if it is null, naming {@code what}
   * @throws IllegalArgumentException if it is zero or negative, naming {@code what} and the value
   */
  public static Duration positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
    return d;
  }

  /**
   * Refuses a setting made twice.
   *
   * @throws IllegalStateException if {@code unset} is false: "{@code what} was already set"
   */
  public static void unset(boolean unset, String what) {
    if (!unset) {
      throw new IllegalStateException(what + " was already set");
    }
  }
}
