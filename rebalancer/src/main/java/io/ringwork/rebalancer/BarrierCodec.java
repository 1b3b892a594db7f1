package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * The one codec of the leader's barrier: {@code {"format":1,"state":S,"readZxid":R}}, S being the
 * {@link HandoffState}'s wire form and R the zxid of the read point the leader's check was made
 * after. The barrier's own zxid, the fencing token, comes from its stat.
 */
final class BarrierCodec {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a barrier's data says. */
  record Written(HandoffState state, long readZxid) {}

  private BarrierCodec() {}

  static byte[] encode(HandoffState state, long readZxid) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", 1);
    node.put("state", state.wire());
    node.put("readZxid", readZxid);
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads a barrier's data; a missing state reads as {@link HandoffState#NONE}.
   *
   * @throws IllegalArgumentException if it is not JSON or not of format 1
   */
  static Written decode(byte[] data) {
    JsonNode node;
    try {
      node = JSON.readTree(data);
    } catch (Exception e) {
      throw new IllegalArgumentException("not JSON");
    }
    if (node == null || node.path("format").asInt() != 1) {
      throw new IllegalArgumentException("unknown format");
    }
    return new Written(
        HandoffState.parse(node.path("state").asText("")), node.path("readZxid").asLong());
  }
}
