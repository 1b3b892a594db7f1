package io.ringwork.ring;

import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A worker that can own partitions: an id, a relative weight, an optional failure zone and a set of
 * labels.
 *
 * <p>Ids are what every other part of Ringwork keys on (ZooKeeper node names, assignment tables,
 * CLI output), so they are validated strictly: non-empty, at most {@value #MAX_ID_LENGTH}
 * characters, no {@code '/'} and no control characters. Weights are positive and finite. A member
 * with weight 2 gets twice the partitions of a member with weight 1.
 *
 * @param id the unique name of the member within its group
 * @param weight the relative capacity, positive and finite
 * @param zone the failure zone (rack, availability zone), empty when unknown
 * @param labels free-form tags, for example {@code "group=a"} or {@code "hw=ipmi"}; sorted
 */
public record Member(String id, double weight, Optional<String> zone, SortedSet<String> labels) {

  /** The longest id accepted, in characters. */
  public static final int MAX_ID_LENGTH = 255;

  /** The weight a member has when none is given. */
  public static final double DEFAULT_WEIGHT = 1.0;

  /**
   * The largest weight accepted: weights are relative, and a bound keeps the sum over any group
   * finite (the first release let 1e308 overflow it).
   */
  public static final double MAX_WEIGHT = 1e12;

  /**
   * Creates a member, validating every field.
   *
   * @throws IllegalArgumentException if the id, weight, zone or a label is invalid; the message
   *     names the field, the value and what was expected
   */
  public Member {
    checkId(id);
    if (!(weight > 0) || Double.isInfinite(weight)) {
      throw new IllegalArgumentException(
          "weight must be positive and finite, got " + weight + " for member '" + id + "'");
    }
    if (weight > MAX_WEIGHT) {
      throw new IllegalArgumentException(
          "weight must be positive and finite, got "
              + weight
              + " for member '"
              + id
              + "' (weights are relative; at most "
              + MAX_WEIGHT
              + ")");
    }
    Objects.requireNonNull(zone, "zone");
    zone.ifPresent(z -> checkName("zone", z, id));
    Objects.requireNonNull(labels, "labels");
    TreeSet<String> copy = new TreeSet<>();
    for (String label : labels) {
      checkName("label", label, id);
      copy.add(label);
    }
    labels = Collections.unmodifiableSortedSet(copy);
  }

  /**
   * Creates a member with weight {@value #DEFAULT_WEIGHT}, no zone and no labels.
   *
   * @throws IllegalArgumentException if the id is invalid
   */
  public static Member of(String id) {
    return new Member(id, DEFAULT_WEIGHT, Optional.empty(), Collections.emptySortedSet());
  }

  /**
   * Creates a member with the given weight, no zone and no labels.
   *
   * @throws IllegalArgumentException if the id or weight is invalid
   */
  public static Member of(String id, double weight) {
    return new Member(id, weight, Optional.empty(), Collections.emptySortedSet());
  }

  /**
   * Creates a member with the given weight and zone ({@code null} for none), and no labels.
   *
   * @throws IllegalArgumentException if the id, weight or zone is invalid
   */
  public static Member of(String id, double weight, String zone) {
    return new Member(id, weight, Optional.ofNullable(zone), Collections.emptySortedSet());
  }

  /** Returns a copy of this member with another weight. */
  public Member withWeight(double newWeight) {
    return new Member(id, newWeight, zone, labels);
  }

  /** Returns a copy of this member with another zone ({@code null} for none). */
  public Member withZone(String newZone) {
    return new Member(id, weight, Optional.ofNullable(newZone), labels);
  }

  /** Returns a copy of this member with other labels. */
  public Member withLabels(Collection<String> newLabels) {
    return new Member(id, weight, zone, new TreeSet<>(newLabels));
  }

  /** Returns whether this member carries every one of the given labels. */
  public boolean hasLabels(Collection<String> required) {
    return labels.containsAll(required);
  }

  /**
   * Checks that a string is a valid member id.
   *
   * @throws IllegalArgumentException naming the problem when it is not
   */
  public static void checkId(String id) {
    if (id == null || id.isEmpty()) {
      throw new IllegalArgumentException("member id must not be empty");
    }
    if (id.length() > MAX_ID_LENGTH) {
      throw new IllegalArgumentException(
          "member id must be at most "
              + MAX_ID_LENGTH
              + " characters, got "
              + id.length()
              + " for '"
              + id.substring(0, 32)
              + "...'");
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c == '/') {
        throw new IllegalArgumentException(
            "member id must not contain '/', got '" + id + "' (at index " + i + ")");
      }
      if (Character.isISOControl(c)) {
        throw new IllegalArgumentException(
            "member id must not contain control characters, got U+"
                + String.format("%04X", (int) c)
                + " at index "
                + i
                + " in '"
                + printable(id)
                + "'");
      }
    }
    if (id.equals(".") || id.equals("..")) {
      throw new IllegalArgumentException("member id must not be '" + id + "'");
    }
  }

  private static void checkName(String what, String value, String id) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(what + " must not be empty for member '" + id + "'");
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw new IllegalArgumentException(
            what
                + " must not contain control characters, got '"
                + printable(value)
                + "' for member '"
                + id
                + "'");
      }
    }
  }

  private static String printable(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c)) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
