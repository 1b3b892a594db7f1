package io.ringwork.lock;

import java.util.Locale;

/**
 * How a lock holds its key.
 *
 * <p>SHARED holders coexist with each other and with one UPGRADABLE holder. UPGRADABLE is a shared
 * hold that alone may turn EXCLUSIVE: since only one UPGRADABLE holder exists at a time, its
 * upgrade waits only for the SHARED holders present and never deadlocks (parking_lot's {@code
 * upgradable_read}). EXCLUSIVE excludes every other hold. The partition owner's fast path counts as
 * EXCLUSIVE.
 */
public enum LockMode {
  /** Many readers; excludes EXCLUSIVE only. */
  SHARED('S'),
  /** A reader that may upgrade: one at a time, compatible with SHARED. */
  UPGRADABLE('U'),
  /** One holder, nothing else. */
  EXCLUSIVE('X');

  private final char code;

  LockMode(char code) {
    this.code = code;
  }

  /** Returns the one-letter code used in lock node names. */
  char code() {
    return code;
  }

  /** Returns whether a hold in this mode may coexist with a hold in {@code other}. */
  public boolean compatibleWith(LockMode other) {
    return this != EXCLUSIVE && other != EXCLUSIVE && !(this == UPGRADABLE && other == UPGRADABLE);
  }

  /** Returns the lower-case name used by the CLI and in lock node data. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a mode by its wire name ({@code shared}, {@code upgradable}, {@code exclusive}), in any
   * case.
   *
   * @throws IllegalArgumentException naming the value when it is not a mode
   */
  public static LockMode parse(String value) {
    if (value != null) {
      for (LockMode m : values()) {
        if (m.name().equalsIgnoreCase(value)) {
          return m;
        }
      }
    }
    throw new IllegalArgumentException(
        "lock mode must be shared, upgradable or exclusive, got '" + value + "'");
  }

  static LockMode ofCode(char c) {
    for (LockMode m : values()) {
      if (m.code == c) {
        return m;
      }
    }
    return null;
  }
}
