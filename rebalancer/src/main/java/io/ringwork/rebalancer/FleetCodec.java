package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.rebalancer.FleetState.DrainRequest;
import io.ringwork.rebalancer.FleetState.Pause;
import io.ringwork.rebalancer.FleetState.Reservation;
import io.ringwork.ring.Member;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wire format of the operators' controls under {@code <group>/fleet}: JSON objects with {@code
 * "format": 1}. Times are never written: each control's start is its node's mtime, the server's
 * clock. An unreadable node is logged and read as absent (never fatal): a reservation that cannot
 * be read reserves nothing, a pause that cannot be read pauses nothing.
 */
final class FleetCodec {

  private static final Logger log = LoggerFactory.getLogger(FleetCodec.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int FORMAT = 1;

  private FleetCodec() {}

  static byte[] reservation(Member m, Reservation.State state, long graceMillis) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("state", state.name().toLowerCase(Locale.ROOT));
    node.put("graceMillis", graceMillis);
    node.put("weight", m.weight());
    m.zone().ifPresent(z -> node.put("zone", z));
    ArrayNode labels = node.putArray("labels");
    m.labels().forEach(labels::add);
    return bytes(node);
  }

  static Reservation reservation(String id, byte[] data, Stat stat) {
    try {
      JsonNode node = object(data);
      Reservation.State state =
          Reservation.State.valueOf(node.path("state").asText("").toUpperCase(Locale.ROOT));
      TreeSet<String> labels = new TreeSet<>();
      node.path("labels").forEach(l -> labels.add(l.asText()));
      String zone = node.path("zone").asText("");
      Member m =
          new Member(
              id,
              node.path("weight").asDouble(Member.DEFAULT_WEIGHT),
              zone.isEmpty() ? Optional.empty() : Optional.of(zone),
              labels);
      long grace = node.path("graceMillis").asLong(-1);
      if (grace < 0) {
        throw new IllegalArgumentException("graceMillis is missing");
      }
      return new Reservation(m, state, grace, stat.getMtime(), stat.getVersion());
    } catch (RuntimeException e) {
      log.warn("reservation of {} is unreadable and reserves nothing: {}", id, text(data));
      return null;
    }
  }

  static byte[] pause(String reason, String by, long forMillis, List<String> members) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("reason", reason);
    node.put("by", by);
    node.put("forMillis", forMillis);
    ArrayNode ids = node.putArray("members");
    members.forEach(ids::add);
    return bytes(node);
  }

  static Pause pause(byte[] data, Stat stat) {
    try {
      JsonNode node = object(data);
      long forMillis = node.path("forMillis").asLong(-1);
      if (forMillis < 0) {
        throw new IllegalArgumentException("forMillis is missing");
      }
      List<String> members = new ArrayList<>();
      node.path("members").forEach(m -> members.add(m.asText()));
      return new Pause(
          node.path("reason").asText(""),
          node.path("by").asText(""),
          stat.getMtime(),
          forMillis,
          members,
          stat.getVersion());
    } catch (RuntimeException e) {
      log.warn("the pause is unreadable and pauses nothing: {}", text(data));
      return null;
    }
  }

  static byte[] drain(long incarnation, String by) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("incarnation", incarnation);
    node.put("by", by);
    return bytes(node);
  }

  static DrainRequest drain(String id, byte[] data, Stat stat) {
    try {
      JsonNode node = object(data);
      return new DrainRequest(
          id,
          node.path("incarnation").asLong(),
          node.path("by").asText(""),
          stat.getMtime(),
          stat.getVersion());
    } catch (RuntimeException e) {
      log.warn("drain request of {} is unreadable and asks nothing: {}", id, text(data));
      return null;
    }
  }

  private static JsonNode object(byte[] data) {
    JsonNode node;
    try {
      node = JSON.readTree(data);
    } catch (Exception e) {
      throw new IllegalArgumentException("not JSON");
    }
    if (node == null || !node.isObject() || node.path("format").asInt() != FORMAT) {
      throw new IllegalArgumentException("not a format-1 object");
    }
    return node;
  }

  private static byte[] bytes(ObjectNode node) {
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] data) {
    return data == null ? "null" : new String(data, StandardCharsets.UTF_8);
  }
}
