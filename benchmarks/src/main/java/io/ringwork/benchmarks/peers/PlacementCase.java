package io.ringwork.benchmarks.peers;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.Placement;
import java.util.ArrayList;
import java.util.List;

/**
 * One placement input, the same for every peer: the members before (none for a full computation)
 * with their owners per partition, and the members after.
 *
 * @param partitions P
 * @param before the members before, or null for a computation from nothing
 * @param previousOwners the owner id of each partition before, or null
 * @param after the members after
 */
public record PlacementCase(
    int partitions, List<Member> before, String[] previousOwners, List<Member> after) {

  /** The operations measured. */
  public static final List<String> OPERATIONS = List.of("full", "join", "leave", "churn10");

  /**
   * Builds the case for {@code members} members, P partitions and an operation. The previous owners
   * come from our balanced placement, an exactly balanced start that every peer shares.
   */
  public static PlacementCase of(int members, int partitions, String operation) {
    List<Member> before = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      before.add(Member.of(String.format("member-%06d", i)));
    }
    if (operation.equals("full")) {
      return new PlacementCase(partitions, null, null, before);
    }
    Assignment start =
        Placement.newBuilder().partitions(partitions).buildPartitioned().assign(null, before);
    String[] owners = new String[partitions];
    for (int p = 0; p < partitions; p++) {
      owners[p] = start.primary(p).id();
    }
    List<Member> after = new ArrayList<>(before);
    switch (operation) {
      case "join" -> after.add(Member.of("joiner-0"));
      case "leave" -> after.remove(members / 2);
      case "churn10" -> {
        // Ten of the members before leave (spread over the id order), then ten join.
        for (int i = 0; i < 10; i++) {
          after.remove((i * 7919) % after.size());
        }
        for (int i = 0; i < 10; i++) {
          after.add(Member.of("joiner-" + i));
        }
      }
      default ->
          throw new IllegalArgumentException(
              "unknown operation '" + operation + "', expected one of " + OPERATIONS);
    }
    return new PlacementCase(partitions, before, owners, after);
  }
}
