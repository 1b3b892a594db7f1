package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * The one codec of a worker's acknowledgement, {@code acks/<id>}: {@code
 * {"format":1,"state":S,"incarnation":I}}, S being the {@link HandoffState}'s wire form. The node's
 * session and zxid, which the leader's check also needs, come from its stat, not its data.
 */
final class AckCodec {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What an acknowledgement's data says. */
  record Written(HandoffState state, long incarnation) {}

  private AckCodec() {}

  static byte[] encode(HandoffState state, long incarnation) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", 1);
    node.put("state", state.wire());
    node.put("incarnation", incarnation);
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads an acknowledgement's data.
   *
   * @throws IllegalArgumentException if it is not JSON, not of format 1, or has no textual state
   */
  static Written decode(byte[] data) {
    JsonNode node;
    try {
      node = JSON.readTree(data);
    } catch (Exception e) {
      throw new IllegalArgumentException("not JSON");
    }
    if (node == null || node.path("format").asInt() != 1 || !node.path("state").isTextual()) {
      throw new IllegalArgumentException("unknown format");
    }
    return new Written(
        HandoffState.parse(node.path("state").asText()), node.path("incarnation").asLong());
  }
}
