package io.ringwork.lock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * What a lock node records, for introspection and for the modes of downgraded requests: the wire
 * format of a lock node's data (JSON, {@code "format": 1}).
 *
 * @param member the holder's member id
 * @param incarnation the holder's incarnation (its session id when it has no membership)
 * @param session the ZooKeeper session that created the node
 * @param mode the mode now held (lower than the name's after a downgrade)
 * @param key the key
 * @param subtree whether the lock covers the key's subtree
 * @param purpose what the lock is for, free text
 * @param since when it was requested, epoch milliseconds
 * @param revokeBy who asked the holder to give the lock up, or null
 * @param revokeAt when they asked, epoch milliseconds, 0 if nobody did
 */
record LockData(
    String member,
    long incarnation,
    long session,
    LockMode mode,
    String key,
    boolean subtree,
    String purpose,
    long since,
    String revokeBy,
    long revokeAt) {

  private static final ObjectMapper JSON = new ObjectMapper();

  byte[] encode() {
    ObjectNode o = JSON.createObjectNode();
    o.put("format", 1);
    o.put("member", member);
    o.put("incarnation", incarnation);
    o.put("session", Long.toHexString(session));
    o.put("mode", mode.wireName());
    o.put("key", key);
    o.put("subtree", subtree);
    o.put("purpose", purpose);
    o.put("since", since);
    if (revokeBy != null) {
      ObjectNode r = o.putObject("revoke");
      r.put("by", revokeBy);
      r.put("at", revokeAt);
    }
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  LockData withMode(LockMode m) {
    return new LockData(
        member, incarnation, session, m, key, subtree, purpose, since, revokeBy, revokeAt);
  }

  LockData withRevoke(String by, long at) {
    return new LockData(member, incarnation, session, mode, key, subtree, purpose, since, by, at);
  }

  /**
   * Parses a lock node's data.
   *
   * @throws IllegalArgumentException naming the path and what is wrong when it is not valid
   */
  static LockData decode(String path, byte[] data) {
    JsonNode o;
    try {
      o = JSON.readTree(data == null ? new byte[0] : data);
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "lock node " + path + " does not hold JSON: " + preview(data), e);
    }
    if (o == null || !o.isObject() || o.path("format").asInt() != 1) {
      throw new IllegalArgumentException(
          "lock node " + path + " has no format 1 object: " + preview(data));
    }
    for (String field : new String[] {"member", "mode", "key", "session"}) {
      if (!o.path(field).isTextual()) {
        throw new IllegalArgumentException(
            "lock node " + path + " lacks the text field '" + field + "': " + preview(data));
      }
    }
    long session;
    try {
      session = Long.parseUnsignedLong(o.path("session").asText(), 16);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "lock node " + path + " has a session that is not hex: " + preview(data));
    }
    JsonNode r = o.path("revoke");
    return new LockData(
        o.path("member").asText(),
        o.path("incarnation").asLong(),
        session,
        LockMode.parse(o.path("mode").asText()),
        o.path("key").asText(),
        o.path("subtree").asBoolean(),
        o.path("purpose").asText(""),
        o.path("since").asLong(),
        r.isObject() ? r.path("by").asText() : null,
        r.isObject() ? r.path("at").asLong() : 0);
  }

  private static String preview(byte[] data) {
    if (data == null) {
      return "(no data)";
    }
    String s = new String(data, StandardCharsets.UTF_8);
    return s.length() > 120 ? s.substring(0, 120) + "..." : s;
  }
}
