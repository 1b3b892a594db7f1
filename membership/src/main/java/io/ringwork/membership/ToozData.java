package io.ringwork.membership;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

/**
 * The data of a member node in a tooz group: msgpack as oslo.serialization writes it ({@code
 * msgpack.packb(obj, use_bin_type=True)}) and as tooz's Partitioner reads it ({@code
 * msgpack.unpackb(raw=False)}, then {@code .get("weight", 1)}). The facts are those of {@code
 * shared/interop/tooz-zookeeper.md}, sections 2 and 3, checked there against tooz 3.1.
 *
 * <p>{@link #decode} answers what a Python member makes of a node: the weight it uses, or why it
 * fails on it. Python Partitioners do not skip a node they cannot read: one such node makes every
 * later {@code run_watchers()} raise, in every Python member of the group.
 */
public final class ToozData {

  private ToozData() {}

  /** What a Python member makes of one node's data. */
  public record Decoded(int weight, String problem, String note) {

    /** Returns whether Python members read it without failing (a note may still apply). */
    public boolean readable() {
      return problem == null;
    }
  }

  /**
   * Encodes {@code {"weight": weight}} exactly as {@code join_partitioned_group(g, weight=W)} does:
   * a one-entry map, the key in the msgpack str format, the weight as the smallest integer.
   *
   * @throws IllegalArgumentException if the weight is not positive
   */
  public static byte[] weight(int weight) {
    if (weight < 1) {
      throw new IllegalArgumentException(
          "a tooz weight must be a positive integer (0 or less hangs Python lookups), got "
              + weight);
    }
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(1);
      p.packString("weight");
      p.packInt(weight);
      return p.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("msgpack into memory failed", e);
    }
  }

  /** Reads one node's data as tooz does. */
  public static Decoded decode(byte[] data) {
    if (data == null || data.length == 0) {
      return problem("empty data (Python: 'Unpack failed: incomplete input')");
    }
    Value value;
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(data)) {
      value = u.unpackValue();
      if (u.hasNext()) {
        return problem(
            "extra data after one msgpack value, e.g. JSON or Curator's default IP address"
                + " (Python: 'unpack(b) received extra data')");
      }
    } catch (IOException | RuntimeException e) {
      return problem("not msgpack (Python: SerializationError): " + e.getMessage());
    }
    if (!value.isMapValue()) {
      return problem(
          "a msgpack "
              + value.getValueType().name().toLowerCase(Locale.ROOT)
              + ", not a map (Python: AttributeError on .get)");
    }
    Integer weight = null;
    String note = null;
    for (Map.Entry<Value, Value> e : value.asMapValue().entrySet()) {
      Value k = e.getKey();
      if (k.isBinaryValue()) {
        if ("weight".equals(new String(k.asRawValue().asByteArray(), StandardCharsets.UTF_8))) {
          note = "'weight' is a msgpack bin key, which tooz ignores: weight 1";
        }
        continue;
      }
      if (!k.isStringValue()) {
        return problem(
            "a "
                + k.getValueType().name().toLowerCase(Locale.ROOT)
                + " map key (Python: 'not allowed for map key' under strict_map_key)");
      }
      if (!k.asStringValue().asString().equals("weight")) {
        continue;
      }
      Value w = e.getValue();
      if (!w.isIntegerValue()) {
        return problem(
            "weight is a msgpack "
                + w.getValueType().name().toLowerCase(Locale.ROOT)
                + ", not an integer (Python: TypeError)");
      }
      if (!w.asIntegerValue().isInIntRange()) {
        return problem("weight " + w + " is out of range");
      }
      weight = w.asIntegerValue().toInt();
    }
    int effective = weight == null ? 1 : weight;
    if (effective < 1) {
      return problem(
          "weight "
              + effective
              + " gives no ring points; Python lookups with replicas >= members never end");
    }
    return new Decoded(effective, null, note);
  }

  private static Decoded problem(String why) {
    return new Decoded(0, why, null);
  }
}
