package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.rebalancer.FleetState;
import io.ringwork.rebalancer.FleetState.Pause;
import io.ringwork.rebalancer.FleetState.Reservation;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Ring;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Locale;
import org.apache.curator.framework.CuratorFramework;

/**
 * The operators' controls of a group as {@code inspect} and {@code members} show them: {@code
 * pause}, {@code reservations} and {@code drainRequests}. Deadlines are the server's times (epoch
 * ms); {@code remainingMs} is computed against this machine's clock, for display only.
 */
final class FleetReports {

  private FleetReports() {}

  static void fill(ObjectNode root, FleetState fleet, Ring ring, long now) {
    if (fleet.pause().isPresent()) {
      Pause p = fleet.pause().get();
      ObjectNode o = root.putObject("pause");
      o.put("reason", p.reason());
      o.put("by", p.by());
      o.put("since", p.sinceMillis());
      o.put("until", p.untilMillis());
      o.put("remainingMs", Math.max(0, p.untilMillis() - now));
      ArrayNode members = o.putArray("members");
      p.members().forEach(members::add);
    } else {
      root.putNull("pause");
    }
    ArrayNode reservations = root.putArray("reservations");
    for (Reservation r : fleet.reservations().values()) {
      ObjectNode o = reservations.addObject();
      o.put("member", r.member().id());
      o.put("state", r.state().name().toLowerCase(Locale.ROOT));
      o.put("graceMillis", r.graceMillis());
      o.put("since", r.sinceMillis());
      if (r.state() == Reservation.State.PRESENT) {
        o.putNull("expiresAt");
        o.putNull("remainingMs");
      } else {
        o.put("expiresAt", r.expiresAtMillis());
        o.put("remainingMs", Math.max(0, r.expiresAtMillis() - now));
      }
      if (ring instanceof Assignment a) {
        o.put("partitions", a.primaryCount(r.member().id()));
      } else {
        o.putNull("partitions");
      }
    }
    ArrayNode drains = root.putArray("drainRequests");
    for (FleetState.DrainRequest d : fleet.drains().values()) {
      ObjectNode o = drains.addObject();
      o.put("member", d.member());
      o.put("incarnation", d.incarnation());
      o.put("by", d.by());
      o.put("since", d.sinceMillis());
    }
  }

  /** The table a live group has in force, or null when there is none yet (only for counts). */
  static Ring ringOrNull(CuratorFramework client, String groupPath) throws Exception {
    try {
      return GroupStatus.liveRing(client, groupPath, KeyRouter.wholeKey());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The table lines for the controls of a report made by {@link #fill}. */
  static void table(PrintWriter out, JsonNode r) {
    JsonNode p = r.path("pause");
    if (p.isObject()) {
      out.printf(
          "PAUSED until %s (%.1f s left) by %s: %s; placed: %s%n",
          Instant.ofEpochMilli(p.path("until").asLong()),
          p.path("remainingMs").asLong() / 1000.0,
          p.path("by").asText().isEmpty() ? "?" : p.path("by").asText(),
          p.path("reason").asText().isEmpty() ? "(no reason)" : p.path("reason").asText(),
          p.path("members"));
    }
    for (JsonNode res : r.path("reservations")) {
      if (res.path("state").asText().equals("present")) {
        continue;
      }
      out.printf(
          "reserved for %s (%s): %s partitions unowned until %s (%.1f s left)%n",
          res.path("member").asText(),
          res.path("state").asText(),
          res.path("partitions").isNull() ? "its" : res.path("partitions").asText(),
          Instant.ofEpochMilli(res.path("expiresAt").asLong()),
          res.path("remainingMs").asLong() / 1000.0);
    }
    for (JsonNode d : r.path("drainRequests")) {
      out.printf(
          "drain requested of %s (incarnation %d) by %s%n",
          d.path("member").asText(),
          d.path("incarnation").asLong(),
          d.path("by").asText().isEmpty() ? "?" : d.path("by").asText());
    }
  }
}
