package io.ringwork.simulator.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.simulator.cli.Reports;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes plan and compare results as a table, JSON or CSV. */
final class PlanReports {

  private static final int TABLE_ROWS = 40;
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private PlanReports() {}

  static void plan(
      PrintWriter out,
      String format,
      ClusterOptions.Setup setup,
      List<StepResult> steps,
      boolean keyLevel) {
    switch (format) {
      case "json" -> {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", Reports.FORMAT);
        root.put("strategy", setup.strategy());
        root.put("partitions", setup.partitions());
        root.put("replicas", setup.replicas());
        root.put("unit", keyLevel ? "keys" : "partitions");
        ArrayNode array = root.putArray("steps");
        steps.forEach(s -> array.add(json(s)));
        out.println(root.toPrettyString());
      }
      case "csv" -> {
        out.println(
            "step,change,memberCount,moved,optimalMoved,keysMoved,keysOptimal,peakToAverage,minToAverage,zoneViolations,computeMillis");
        for (StepResult s : steps) {
          out.println(csvRow(s));
        }
      }
      default -> {
        String unit = keyLevel ? "keys" : "partitions";
        out.printf(
            Locale.ROOT,
            "strategy %s, %s %d, replicas %d, %d members at start%n",
            setup.strategy(),
            keyLevel ? "points per node" : "partitions",
            setup.partitions(),
            setup.replicas(),
            setup.members().size());
        for (StepResult s : steps) {
          out.println();
          out.printf(Locale.ROOT, "step %s: %s -> %d members%n", s.step(), s.change(), s.members());
          out.printf(
              Locale.ROOT,
              "  moved %d %s (optimum %d)%s%n",
              s.moved(),
              unit,
              s.optimalMoved(),
              s.keysMoved() >= 0 && !keyLevel
                  ? String.format(
                      Locale.ROOT, ", keys moved %d (optimum %d)", s.keysMoved(), s.keysOptimal())
                  : "");
          out.printf(
              Locale.ROOT,
              "  peak/avg %.3f, min/avg %.3f, zone violations %d, computed in %.2f ms%n",
              s.peakToAverage(),
              s.minToAverage(),
              s.zoneViolations(),
              s.computeMillis());
          if (steps.size() <= 20) {
            memberTable(out, s);
          }
        }
      }
    }
  }

  private static void memberTable(PrintWriter out, StepResult s) {
    out.printf(
        Locale.ROOT, "  %-24s %9s %9s %7s %9s%n", "member", "before", "after", "delta", "quota");
    int shown = 0;
    for (StepResult.Row r : s.rows()) {
      if (shown++ == TABLE_ROWS) {
        out.printf(Locale.ROOT, "  ... %d more members%n", s.rows().size() - TABLE_ROWS);
        break;
      }
      out.printf(
          Locale.ROOT,
          "  %-24s %9d %9d %+7d %9d%n",
          r.id(),
          r.before(),
          r.after(),
          r.after() - r.before(),
          r.quota());
    }
    if (s.rowsTruncated()) {
      out.println("  (unchanged members not shown)");
    }
  }

  private static ObjectNode json(StepResult s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("step", s.step());
    n.put("change", s.change());
    n.put("memberCount", s.members());
    n.put("moved", s.moved());
    n.put("optimalMoved", s.optimalMoved());
    double toOptimum = ratio(s);
    if (Double.isFinite(toOptimum)) {
      n.put("movedToOptimum", toOptimum);
    } else {
      n.putNull("movedToOptimum");
    }
    // Not measured (no keys given): null, never a magic number.
    if (s.keysMoved() >= 0) {
      n.put("keysMoved", s.keysMoved());
      n.put("keysOptimal", s.keysOptimal());
    } else {
      n.putNull("keysMoved");
      n.putNull("keysOptimal");
    }
    n.put("peakToAverage", s.peakToAverage());
    n.put("minToAverage", s.minToAverage());
    n.put("zoneViolations", s.zoneViolations());
    n.put("computeMillis", s.computeMillis());
    n.put("membersTruncated", s.rowsTruncated());
    ArrayNode rows = n.putArray("members");
    for (StepResult.Row r : s.rows()) {
      ObjectNode row = rows.addObject();
      row.put("id", r.id());
      row.put("before", r.before());
      row.put("after", r.after());
      row.put("quota", r.quota());
    }
    return n;
  }

  private static String csvRow(StepResult s) {
    return String.format(
        Locale.ROOT,
        "%s,%s,%d,%d,%d,%s,%s,%.6f,%.6f,%d,%.3f",
        s.step(),
        csv(s.change()),
        s.members(),
        s.moved(),
        s.optimalMoved(),
        s.keysMoved() < 0 ? "" : Long.toString(s.keysMoved()),
        s.keysOptimal() < 0 ? "" : Long.toString(s.keysOptimal()),
        s.peakToAverage(),
        s.minToAverage(),
        s.zoneViolations(),
        s.computeMillis());
  }

  private static String csv(String v) {
    return v.contains(",") || v.contains("\"") ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
  }

  static void compare(
      PrintWriter out, String format, int keys, Map<String, List<StepResult>> results) {
    switch (format) {
      case "json" -> {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", Reports.FORMAT);
        root.put("keys", keys);
        ObjectNode strategies = root.putObject("strategies");
        results.forEach(
            (name, steps) -> {
              ArrayNode a = strategies.putArray(name);
              steps.forEach(s -> a.add(json(s)));
            });
        out.println(root.toPrettyString());
      }
      case "csv" -> {
        out.println(
            "strategy,step,change,memberCount,moved,optimalMoved,movedToOptimum,peakToAverage,minToAverage,computeMillis");
        results.forEach(
            (name, steps) ->
                steps.forEach(
                    s ->
                        out.println(
                            String.format(
                                Locale.ROOT,
                                "%s,%s,%s,%d,%d,%d,%.4f,%.6f,%.6f,%.3f",
                                name,
                                s.step(),
                                csv(s.change()),
                                s.members(),
                                s.moved(),
                                s.optimalMoved(),
                                ratio(s),
                                s.peakToAverage(),
                                s.minToAverage(),
                                s.computeMillis()))));
      }
      default -> {
        out.printf(
            Locale.ROOT,
            "%d keys; load is keys over the member's fair share (jump ignores weights)%n",
            keys);
        List<StepResult> first = results.values().iterator().next();
        for (int i = 0; i < first.size(); i++) {
          StepResult head = first.get(i);
          out.println();
          out.printf(
              Locale.ROOT,
              "step %s: %s -> %d members%n",
              head.step(),
              head.change(),
              head.members());
          out.printf(
              Locale.ROOT,
              "  %-12s %9s %11s %11s %9s %11s%n",
              "strategy",
              "peak/avg",
              "moved",
              "optimum",
              "moved/opt",
              "compute ms");
          for (Map.Entry<String, List<StepResult>> e : results.entrySet()) {
            StepResult s = e.getValue().get(i);
            out.printf(
                Locale.ROOT,
                "  %-12s %9.3f %11d %11d %9.2f %11.2f%n",
                e.getKey(),
                s.peakToAverage(),
                s.moved(),
                s.optimalMoved(),
                ratio(s),
                s.computeMillis());
          }
        }
      }
    }
  }

  static double ratio(StepResult s) {
    return s.optimalMoved() == 0
        ? (s.moved() == 0 ? 1.0 : Double.POSITIVE_INFINITY)
        : (double) s.moved() / s.optimalMoved();
  }
}
