package io.ringwork.tooz;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageStringCodingException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

/**
 * The data of a member node in a tooz group: msgpack as oslo.serialization writes it ({@code
 * msgpack.packb(obj, use_bin_type=True)}) and as tooz's Partitioner reads it ({@code
 * msgpack.unpackb(raw=False)}, then {@code .get("weight", 1)}). The facts are those of {@code
 * docs/tooz.md}, sections 2 and 3, checked against real tooz.
 *
 * <p>{@link #decode} answers what a Python member makes of a node: the weight it uses, or why it
 * fails on it. Python Partitioners do not skip a node they cannot read: one such node makes every
 * later {@code run_watchers()} raise, in every Python member of the group.
 */
public final class ToozData {

  /** The largest weight a ring is built with (as {@code ToozRing}). */
  public static final int MAX_WEIGHT = 1_000_000;

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
    try {
      String bad = invalid(value);
      if (bad != null) {
        return problem(bad);
      }
      return weightOf(value);
    } catch (RuntimeException e) {
      return problem("unreadable msgpack (Python: SerializationError): " + e);
    }
  }

  /**
   * What Python's {@code unpackb(raw=False, strict_map_key=True)} refuses anywhere in the value: a
   * map key that is not str or bin, a str that is not UTF-8; null when it reads it.
   */
  private static String invalid(Value v) {
    if (v.isStringValue()) {
      try {
        v.asStringValue().asString(); // throws on bytes that are not UTF-8
      } catch (MessageStringCodingException e) {
        return "a msgpack str that is not UTF-8 (Python: UnicodeDecodeError)";
      }
    } else if (v.isArrayValue()) {
      for (Value e : v.asArrayValue()) {
        String bad = invalid(e);
        if (bad != null) {
          return bad;
        }
      }
    } else if (v.isMapValue()) {
      for (Map.Entry<Value, Value> e : v.asMapValue().entrySet()) {
        Value k = e.getKey();
        if (!k.isStringValue() && !k.isBinaryValue()) {
          return "a "
              + k.getValueType().name().toLowerCase(Locale.ROOT)
              + " map key (Python: 'not allowed for map key' under strict_map_key)";
        }
        String bad = invalid(k);
        if (bad == null) {
          bad = invalid(e.getValue());
        }
        if (bad != null) {
          return bad;
        }
      }
    }
    return null;
  }

  /** tooz's {@code capabilities.get("weight", 1)}, used as {@code partitions * weight}. */
  private static Decoded weightOf(Value map) {
    Long weight = null;
    String note = null;
    for (Map.Entry<Value, Value> e : map.asMapValue().entrySet()) {
      Value k = e.getKey();
      if (k.isBinaryValue()) {
        if ("weight".equals(new String(k.asRawValue().asByteArray(), StandardCharsets.UTF_8))) {
          note = "'weight' is a msgpack bin key, which tooz ignores: weight 1";
        }
        continue;
      }
      if (!k.asStringValue().asString().equals("weight")) {
        continue;
      }
      Value w = e.getValue();
      if (w.isBooleanValue()) {
        // Python's bool is an int: 32 * True is 32 points.
        weight = w.asBooleanValue().getBoolean() ? 1L : 0L;
        note = "weight is a msgpack boolean, which tooz reads as " + weight;
      } else if (!w.isIntegerValue()) {
        return problem(
            "weight is a msgpack "
                + w.getValueType().name().toLowerCase(Locale.ROOT)
                + ", not an integer (Python: TypeError)");
      } else if (!w.asIntegerValue().isInLongRange()) {
        return problem("weight " + w + " is too large for a ring");
      } else {
        weight = w.asIntegerValue().toLong();
      }
    }
    long effective = weight == null ? 1 : weight;
    if (effective < 1) {
      return problem(
          "weight "
              + effective
              + " gives no ring points; Python lookups with replicas >= members never end");
    }
    if (effective > MAX_WEIGHT) {
      return problem(
          "weight "
              + effective
              + " is above "
              + MAX_WEIGHT
              + " (its ring points would not fit in memory; Ringwork leaves it out)");
    }
    return new Decoded((int) effective, null, note);
  }

  private static Decoded problem(String why) {
    return new Decoded(0, why, null);
  }
}
