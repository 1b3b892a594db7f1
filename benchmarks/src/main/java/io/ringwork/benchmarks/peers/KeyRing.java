package io.ringwork.benchmarks.peers;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Placement;
import io.ringwork.ring.Strategy;
import io.ringwork.ring.ToozRing;
import java.util.List;

/**
 * A competitor for key lookup: the owner of a key, among members built once. Every ring returns the
 * owner's id from an array or map entry it holds, so that none pays for dereferencing a member
 * object the others do not have ({@code tooz} excepted: its ring holds members).
 */
public interface KeyRing {

  /** Returns the id of the key's owner. */
  String owner(String key);

  /** The names accepted by {@link #create(String, List, int)}. */
  List<String> NAMES =
      List.of("balanced", "rendezvous", "tooz", "guava-jump", "ketama-160", "jumpback");

  /**
   * Builds a ring by name over members; {@code partitions} is P for the partitioned rings.
   *
   * @throws IllegalArgumentException for an unknown name
   */
  static KeyRing create(String name, List<Member> members, int partitions) {
    String[] ids = members.stream().map(Member::id).toArray(String[]::new);
    return switch (name) {
      case "balanced", "rendezvous" -> {
        Assignment a =
            Placement.newBuilder()
                .strategy(Strategy.parse(name))
                .partitions(partitions)
                .buildPartitioned()
                .assign(null, members);
        // Like the other rings, end on an array of ids rather than dereferencing a Member.
        yield a::primaryId;
      }
      case "tooz" -> {
        ToozRing ring = ToozRing.of(members, 32, 1);
        yield key -> ring.primary(key).id();
      }
      case "guava-jump" ->
          key ->
              ids[com.google.common.hash.Hashing.consistentHash(Partitioner.hash(key), ids.length)];
      case "ketama-160" -> new Ketama(members, 160);
      case "jumpback" -> {
        var hasher =
            com.dynatrace.hash4j.consistent.ConsistentHashing.jumpBackHash(
                com.dynatrace.hash4j.random.PseudoRandomGeneratorProvider.splitMix64_V1());
        yield key -> ids[hasher.getBucket(Partitioner.hash(key), ids.length)];
      }
      default ->
          throw new IllegalArgumentException(
              "unknown ring '" + name + "', expected one of " + NAMES);
    };
  }
}
