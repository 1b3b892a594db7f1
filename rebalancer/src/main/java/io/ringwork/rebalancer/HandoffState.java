package io.ringwork.rebalancer;

/**
 * The state a handoff completes: what a worker acknowledges and what the leader's barrier names.
 *
 * <p>In coordinated mode it is the version of the assignment the leader published; in leaderless
 * and tooz modes it is a digest of the eligible member set (equal digests, equal tables). Its wire
 * form, in {@code acks/<id>} and {@code barrier}, is {@code "v<version in decimal>"} or {@code
 * "d<digest in lower-case hex, unsigned, no leading zeros>"}; members of every release read and
 * write exactly these strings, so old and new members interoperate.
 *
 * <p>Two states are equal exactly when their wire forms are: a wire string this release does not
 * know (or a known one written in a non-canonical way, such as {@code "v007"}) is kept as {@link
 * Foreign}, equal only to the same text, so that it blocks a handoff as it always did and never
 * matches a state of ours by accident.
 */
sealed interface HandoffState
    permits HandoffState.None, HandoffState.Version, HandoffState.Digest, HandoffState.Foreign {

  /** No state applied yet (the wire form is the empty string). */
  None NONE = new None();

  /** The wire form, as stored in acknowledgements and the barrier. */
  String wire();

  /** Whether this is {@link #NONE}. */
  default boolean isNone() {
    return this instanceof None;
  }

  /** The state of a coordinated group's published assignment version. */
  static Version version(long version) {
    return new Version(version);
  }

  /** The state of a member set whose canonical form hashes to {@code hash}. */
  static Digest digest(long hash) {
    return new Digest(hash);
  }

  /**
   * Reads a wire form; never fails. {@code null} and {@code ""} are {@link #NONE}; a form that does
   * not read back to the same text is {@link Foreign}.
   */
  static HandoffState parse(String wire) {
    if (wire == null || wire.isEmpty()) {
      return NONE;
    }
    HandoffState read = null;
    String body = wire.substring(1);
    try {
      if (wire.charAt(0) == 'v') {
        read = new Version(Long.parseLong(body));
      } else if (wire.charAt(0) == 'd') {
        read = new Digest(Long.parseUnsignedLong(body, 16));
      }
    } catch (NumberFormatException e) {
      read = null;
    }
    return read != null && read.wire().equals(wire) ? read : new Foreign(wire);
  }

  /** No state. */
  record None() implements HandoffState {
    @Override
    public String wire() {
      return "";
    }

    @Override
    public String toString() {
      return "none";
    }
  }

  /** An assignment version published by the leader (coordinated mode). */
  record Version(long version) implements HandoffState {
    @Override
    public String wire() {
      return "v" + version;
    }

    @Override
    public String toString() {
      return wire();
    }
  }

  /** A digest of the eligible member set (leaderless and tooz modes). */
  record Digest(long hash) implements HandoffState {
    @Override
    public String wire() {
      return "d" + Long.toHexString(hash);
    }

    @Override
    public String toString() {
      return wire();
    }
  }

  /** A wire form this release does not write; equal only to the same text. */
  record Foreign(String wire) implements HandoffState {
    public Foreign {
      if (wire == null || wire.isEmpty()) {
        throw new IllegalArgumentException("a foreign state has a wire form");
      }
    }

    @Override
    public String toString() {
      return wire;
    }
  }
}
