package io.ringwork.simulator.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Ring;
import io.ringwork.simulator.cli.Reports;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The demo's report and verdict, computed from what happened in a run: the ledger's rows, the
 * strict history of holds, the counters; as JSON and as a table.
 */
final class DemoReport {

  private static final ObjectMapper JSON = new ObjectMapper();

  private DemoReport() {}

  /**
   * The report of {@code run} after {@code nanos}: the verdict passes when every resource was
   * processed, no two holds of a partition overlapped, and every stale write was explained by a
   * fault and refused.
   */
  static ObjectNode of(DemoRun run, long nanos, Duration restartGrace) throws Exception {
    long unprocessed = run.ledger.unprocessed();
    List<String> violations = run.history.violations(run.leaseBound());
    int overlaps = violations.size();
    long unexplained = run.stale("unexplained");
    long staleAccepted = run.ledger.staleAccepted();
    ObjectNode r = JSON.createObjectNode();
    r.put("format", Reports.FORMAT);
    r.put(
        "verdict",
        unprocessed == 0 && overlaps == 0 && unexplained == 0 && staleAccepted == 0
            ? "pass"
            : "fail");
    r.put("mode", run.settings.processes() ? "processes" : "in-process");
    ArrayNode failed = r.putArray("failedChecks");
    if (unprocessed > 0) {
      failed.add("unprocessed");
    }
    if (overlaps > 0) {
      failed.add("overlaps");
    }
    if (unexplained > 0) {
      failed.add("unexplainedStaleWrites");
    }
    if (staleAccepted > 0) {
      failed.add("staleWritesAccepted");
    }
    r.put("resources", run.settings.resources());
    r.put("unprocessed", unprocessed);
    if (unprocessed > 0) {
      unprocessedSamples(run, r.putArray("unprocessedSamples"));
    }
    r.put("overlaps", overlaps);
    r.put("holdsChecked", run.history.size());
    r.put("leaseBoundMillis", run.leaseBound().toMillis());
    if (overlaps > 0) {
      violations.subList(0, Math.min(5, overlaps)).forEach(r.putArray("overlapSamples")::add);
    }
    writes(run, r, unexplained, staleAccepted);
    faults(run, r, restartGrace);
    workers(run, r);
    r.put("durationMillis", TimeUnit.NANOSECONDS.toMillis(nanos));
    return r;
  }

  /** Fenced writes: accepted, stale ones refused by cause, stale ones accepted. */
  private static void writes(DemoRun run, ObjectNode r, long unexplained, long staleAccepted)
      throws Exception {
    r.put("writes", run.ledger.writes());
    long rejected = 0;
    ObjectNode causes = JSON.createObjectNode();
    for (String cause : DemoWork.CAUSES) {
      causes.put(cause, run.stale(cause));
      rejected += run.stale(cause);
    }
    r.put("staleWritesRejected", rejected);
    r.put("staleWritesAccepted", staleAccepted);
    if (staleAccepted > 0) {
      run.ledger.staleRows().forEach(r.putArray("staleAcceptedSamples")::add);
    }
    r.set("staleWritesByCause", causes);
    if (unexplained > 0) {
      run.unexplainedSamples.forEach(r.putArray("unexplainedSamples")::add);
    }
  }

  /** Faults injected, rolling restarts, and the time to settle after each kind (p50, p99). */
  private static void faults(DemoRun run, ObjectNode r, Duration restartGrace) {
    ObjectNode f = r.putObject("faults");
    run.faultCounts.forEach((k, v) -> f.put(k, v.get()));
    if (run.restarts > 0) {
      ObjectNode rr = r.putObject("restarts");
      rr.put("rollingRestarts", run.restarts);
      rr.put(
          "workersRestarted",
          run.handoffMillis.getOrDefault(Fault.RESTART.label(), List.of()).size());
      rr.put("movedToOthers", run.restartMoves.get());
      rr.put("graceMillis", restartGrace.toMillis());
    }
    ObjectNode h = r.putObject("handoffMillis");
    run.handoffMillis.forEach(
        (k, v) -> {
          List<Long> sorted = new ArrayList<>(v);
          Collections.sort(sorted);
          ObjectNode o = h.putObject(k);
          o.put("p50", sorted.get((sorted.size() - 1) / 2));
          o.put(
              "p99",
              sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1)));
        });
  }

  /** Workers at the end, their balance, and the API actor's locks. */
  private static void workers(DemoRun run, ObjectNode r) {
    int max = 0;
    int sum = 0;
    for (Worker w : run.live) {
      int n = w.owned();
      max = Math.max(max, n);
      sum += n;
    }
    r.put("workers", run.live.size());
    r.put("peakToAverage", sum == 0 ? 0 : max / ((double) sum / run.live.size()));
    ObjectNode l = r.putObject("locks");
    l.put("held", run.lockHolds.get());
    l.put("timedOut", run.lockTimeouts.get());
  }

  /**
   * The first unprocessed keys, each with its partition, the partition's owner now and the key's
   * row in the ledger (last owner and token): where to look when the check fails.
   */
  private static void unprocessedSamples(DemoRun run, ArrayNode samples) throws Exception {
    Partitioner part = Partitioner.of(DemoGroup.PARTITIONS, KeyRouter.upTo('/'));
    Ring ring = null;
    try {
      ring =
          GroupStatus.liveRing(
              run.observer,
              GroupPaths.of("/ringwork", DemoGroup.GROUP).root(),
              KeyRouter.upTo('/'));
    } catch (IllegalArgumentException noTable) {
      // no owners to name
    }
    for (String key : run.ledger.unprocessedKeys(5)) {
      ObjectNode o = samples.addObject();
      o.put("key", key);
      o.put("partition", part.partition(key));
      Member owner = ring == null ? null : ring.primary(key);
      if (owner == null) {
        o.putNull("owner");
      } else {
        o.put("owner", owner.id());
      }
      o.put("row", run.ledger.row(key));
    }
  }

  /** Prints a report as a table: the verdict, each failed check with samples, the figures. */
  static void table(PrintWriter out, ObjectNode r) {
    out.printf(
        "verdict: %s (%s)%n",
        r.path("verdict").asText().toUpperCase(Locale.ROOT), r.path("mode").asText());
    for (JsonNode check : r.path("failedChecks")) {
      failedCheck(out, r, check.asText());
    }
    out.printf(
        "resources %d, unprocessed %d, overlapping holds %d%n",
        r.path("resources").asLong(), r.path("unprocessed").asLong(), r.path("overlaps").asLong());
    out.printf(
        "fenced writes %d accepted, %d stale rejected %s, %d stale accepted%n",
        r.path("writes").asLong(),
        r.path("staleWritesRejected").asLong(),
        r.path("staleWritesByCause"),
        r.path("staleWritesAccepted").asLong());
    out.printf("faults %s, handoff ms %s%n", r.path("faults"), r.path("handoffMillis"));
    if (r.has("standby")) {
      JsonNode h = r.path("standby").path("handoffToFirstWriteMillis");
      out.printf(
          "handoff to first write, warm-up %d ms: standby p50 %s ms (%d), cold owner p50 %s ms"
              + " (%d)%n",
          r.path("standby").path("warmupMillis").asLong(),
          h.path("standby").path("p50").asText("-"),
          h.path("standby").path("count").asInt(),
          h.path("coldOwner").path("p50").asText("-"),
          h.path("coldOwner").path("count").asInt());
    }
    JsonNode rr = r.path("restarts");
    if (rr.isObject()) {
      out.printf(
          "rolling restarts %d: %d workers restarted, %d partitions moved to other workers"
              + " (restart grace %d s)%n",
          rr.path("rollingRestarts").asInt(),
          rr.path("workersRestarted").asInt(),
          rr.path("movedToOthers").asLong(),
          rr.path("graceMillis").asLong() / 1000);
    }
    out.printf(
        "%d workers at the end, peak/average %.2f; api locks %d held, %d timed out; %.1f s%n",
        r.path("workers").asInt(),
        r.path("peakToAverage").asDouble(),
        r.path("locks").path("held").asLong(),
        r.path("locks").path("timedOut").asLong(),
        r.path("durationMillis").asLong() / 1000.0);
  }

  private static void failedCheck(PrintWriter out, ObjectNode r, String check) {
    switch (check) {
      case "unprocessed" -> {
        out.printf(
            "failed check: unprocessed: %d resources were never processed; first:%n",
            r.path("unprocessed").asLong());
        for (JsonNode k : r.path("unprocessedSamples")) {
          out.printf(
              "  %s partition %d, owner now %s, ledger row: %s%n",
              k.path("key").asText(),
              k.path("partition").asInt(),
              k.path("owner").isNull() ? "none" : k.path("owner").asText(),
              k.path("row").asText());
        }
      }
      case "overlaps" -> {
        out.printf(
            "failed check: overlaps: %d pairs of holds of one partition overlapped; first:%n",
            r.path("overlaps").asLong());
        r.path("overlapSamples").forEach(h -> out.printf("  %s%n", h.asText()));
      }
      case "staleWritesAccepted" -> {
        out.printf(
            "failed check: staleWritesAccepted: %d writes were accepted with a token below one"
                + " already issued; first:%n",
            r.path("staleWritesAccepted").asLong());
        r.path("staleAcceptedSamples").forEach(h -> out.printf("  %s%n", h.asText()));
      }
      default -> {
        out.printf(
            "failed check: unexplainedStaleWrites: %d stale writes no fault explains; first:%n",
            r.path("staleWritesByCause").path("unexplained").asLong());
        r.path("unexplainedSamples").forEach(h -> out.printf("  %s%n", h.asText()));
      }
    }
  }
}
