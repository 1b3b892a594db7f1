package io.ringwork.membership;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.ring.Member;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.zookeeper.data.Stat;

/**
 * The one codec of a member node's data: {@code {"format":1,"weight":W[,"zone":Z],"labels":[...],
 * "draining":B[,"role":"observer"][,"leader":true]}}, fields in that order. The role is written
 * only for observers, and the leader flag only by the leader (so that views name the leader without
 * every member watching the election).
 */
final class MemberCodec {

  /** The member data format this version reads and writes. */
  static final int FORMAT = 1;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A member node as read: who it is, and whether it says it leads. */
  record Decoded(MemberInfo info, boolean leader) {}

  private MemberCodec() {}

  static byte[] encode(Member self, boolean draining, Membership.Role role, boolean leader) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("weight", self.weight());
    self.zone().ifPresent(z -> node.put("zone", z));
    ArrayNode labels = node.putArray("labels");
    self.labels().forEach(labels::add);
    node.put("draining", draining);
    if (role == Membership.Role.OBSERVER) {
      node.put("role", "observer");
    }
    if (leader) {
      node.put("leader", true);
    }
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads a member node.
   *
   * @param stat the node's stat, or null
   * @throws IllegalArgumentException naming what is wrong if the data is corrupt or of an unknown
   *     format
   */
  static Decoded decode(String id, byte[] data, Stat stat) {
    JsonNode node;
    try {
      node = JSON.readTree(data);
    } catch (Exception e) {
      throw new IllegalArgumentException("not JSON");
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    int format = node.path("format").asInt(-1);
    if (format != FORMAT) {
      throw new IllegalArgumentException("unknown format " + node.path("format"));
    }
    TreeSet<String> labels = new TreeSet<>();
    node.path("labels").forEach(l -> labels.add(l.asText()));
    String zone = node.path("zone").asText("");
    if (!node.path("weight").isNumber()) {
      throw new IllegalArgumentException("weight is missing or not a number");
    }
    Member m =
        new Member(
            id,
            node.path("weight").asDouble(),
            zone.isEmpty() ? Optional.empty() : Optional.of(zone),
            labels);
    String roleName = node.path("role").asText("worker");
    Membership.Role memberRole =
        switch (roleName) {
          case "worker" -> Membership.Role.WORKER;
          case "observer" -> Membership.Role.OBSERVER;
          default -> throw new IllegalArgumentException("unknown role '" + roleName + "'");
        };
    MemberInfo info =
        new MemberInfo(
            m,
            node.path("draining").asBoolean(false),
            stat == null ? 0 : stat.getCzxid(),
            stat == null ? 0 : stat.getCtime(),
            stat == null ? 0 : stat.getEphemeralOwner(),
            memberRole);
    return new Decoded(info, node.path("leader").asBoolean(false));
  }
}
