package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockBreak;
import io.ringwork.lock.LockInfo;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** Lock rows as {@code ringwork locks}, {@code lock} and {@code inspect} print them. */
final class LockReports {

  private LockReports() {}

  /** Adds one JSON object per lock node: member, mode, token, since, age, purpose, key, waits. */
  static void fill(ArrayNode arr, List<LockInfo> infos, long now) {
    for (LockInfo i : infos) {
      ObjectNode o = arr.addObject();
      o.put("member", i.member());
      o.put("mode", i.mode().wireName());
      o.put("token", i.token());
      o.put("since", i.since());
      o.put("ageMs", i.ageMillis(now));
      o.put("purpose", i.purpose());
      o.put("lockKey", i.key());
      o.put("subtree", i.subtree());
      if (i.waitingFor() != null) {
        o.put("waitingFor", i.waitingFor());
      }
      if (i.revokeRequestedBy() != null) {
        o.put("revokeRequestedBy", i.revokeRequestedBy());
      }
      if (i.problem() != null) {
        o.put("problem", i.problem());
      }
    }
  }

  /** The recorded breaks of {@code key} (all keys when null), newest first. */
  static List<LockBreak> breaks(KeyLocks locks, String key) {
    return locks.breaks().stream().filter(b -> key == null || b.key().equals(key)).toList();
  }

  /** Adds one JSON object per recorded break: key, by, at, and the holders it deleted. */
  static void fillBreaks(ArrayNode arr, List<LockBreak> breaks) {
    for (LockBreak b : breaks) {
      ObjectNode o = arr.addObject();
      o.put("key", b.key());
      o.put("by", b.by());
      o.put("at", b.atMillis());
      ArrayNode holders = o.putArray("holders");
      for (LockBreak.Holder h : b.holders()) {
        holders
            .addObject()
            .put("member", h.member())
            .put("mode", h.mode().wireName())
            .put("token", h.token())
            .put("since", h.since())
            .put("purpose", h.purpose());
      }
    }
  }

  /** One line for a break: {@code broken node-7 at ... by ops-alice: w1 (exclusive, token 12)}. */
  static String describe(LockBreak b) {
    StringBuilder sb =
        new StringBuilder("broken ")
            .append(b.key())
            .append(" at ")
            .append(Instant.ofEpochMilli(b.atMillis()).truncatedTo(ChronoUnit.SECONDS))
            .append(" by ")
            .append(b.by())
            .append(':');
    String sep = " ";
    for (LockBreak.Holder h : b.holders()) {
      sb.append(sep)
          .append(h.member())
          .append(" (")
          .append(h.mode().wireName())
          .append(", token ")
          .append(h.token())
          .append(", held since ")
          .append(Instant.ofEpochMilli(h.since()).truncatedTo(ChronoUnit.SECONDS))
          .append(')');
      sep = ", ";
    }
    return sb.toString();
  }
}
