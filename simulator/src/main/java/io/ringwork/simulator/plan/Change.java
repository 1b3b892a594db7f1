package io.ringwork.simulator.plan;

import io.ringwork.ring.Member;
import io.ringwork.simulator.cli.InputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One change to a cluster: {@code add ID[=W][@Z]}, {@code remove ID}, {@code set-weight ID=W} or
 * {@code fail-zone Z}.
 */
record Change(String kind, String arg) {

  static final List<String> KINDS = List.of("add", "remove", "set-weight", "fail-zone");

  @Override
  public String toString() {
    return kind + " " + arg;
  }

  /**
   * Applies this change to the members, in place.
   *
   * @throws InputException naming the change and where it came from when it does not apply
   */
  void apply(Map<String, Member> members, String where) {
    switch (kind) {
      case "add" -> {
        Member m = ClusterSpec.parseMember("--add", arg);
        if (members.containsKey(m.id())) {
          throw new InputException(
              where + ": add " + arg + ": member '" + m.id() + "' is already in the cluster");
        }
        members.put(m.id(), m);
      }
      case "remove" -> {
        if (members.remove(arg) == null) {
          throw new InputException(
              where + ": remove " + arg + ": no member '" + arg + "' in the cluster");
        }
      }
      case "set-weight" -> {
        int eq = arg.indexOf('=');
        if (eq < 0) {
          throw new InputException(where + ": set-weight " + arg + ": expected ID=WEIGHT");
        }
        String id = arg.substring(0, eq);
        Member m = members.get(id);
        if (m == null) {
          throw new InputException(
              where + ": set-weight " + arg + ": no member '" + id + "' in the cluster");
        }
        try {
          members.put(id, m.withWeight(Double.parseDouble(arg.substring(eq + 1))));
        } catch (NumberFormatException e) {
          throw new InputException(where + ": set-weight " + arg + ": weight is not a number");
        } catch (IllegalArgumentException e) {
          throw new InputException(where + ": set-weight " + arg + ": " + e.getMessage());
        }
      }
      case "fail-zone" -> {
        List<String> gone = new ArrayList<>();
        members
            .values()
            .forEach(m -> m.zone().filter(arg::equals).ifPresent(z -> gone.add(m.id())));
        if (gone.isEmpty()) {
          throw new InputException(
              where + ": fail-zone " + arg + ": no member is in zone '" + arg + "'");
        }
        gone.forEach(members::remove);
      }
      default ->
          throw new InputException(
              where + ": unknown change '" + kind + "', expected one of " + KINDS);
    }
    if (members.isEmpty()) {
      throw new InputException(where + ": " + this + " leaves the cluster empty");
    }
  }
}
