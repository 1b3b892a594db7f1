package io.ringwork.simulator.plan;

import io.ringwork.simulator.cli.Charts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/** Charts of plans and comparisons. */
final class PlanCharts {

  private static final int WIDTH = Charts.WIDTH;
  private static final int HEIGHT = Charts.HEIGHT;
  private static final int MAX_BARS = 60;

  private PlanCharts() {}

  /** Per-member load before the first step and after the last, and moves per step. */
  static void plan(Path file, ClusterOptions.Setup setup, List<StepResult> steps)
      throws IOException {
    Map<String, long[]> load = new LinkedHashMap<>();
    for (StepResult s : steps) {
      for (StepResult.Row r : s.rows()) {
        load.computeIfAbsent(r.id(), id -> new long[] {-1, 0});
      }
    }
    for (StepResult.Row r : steps.get(0).rows()) {
      load.get(r.id())[0] = r.before();
    }
    for (StepResult s : steps) {
      for (StepResult.Row r : s.rows()) {
        long[] v = load.get(r.id());
        if (v[0] < 0) {
          v[0] = 0;
        }
        v[1] = r.after();
      }
    }
    Chart<?, ?> top;
    String unit = setup.partitioned() ? "partitions" : "keys";
    if (load.size() <= MAX_BARS) {
      CategoryChart c =
          new CategoryChartBuilder()
              .width(WIDTH)
              .height(HEIGHT)
              .title("Load per member: before the first step and after the last")
              .xAxisTitle("member")
              .yAxisTitle(unit)
              .build();
      List<String> ids = new ArrayList<>(load.keySet());
      c.addSeries(
          "before", ids, ids.stream().map(id -> (Number) Math.max(0, load.get(id)[0])).toList());
      c.addSeries("after", ids, ids.stream().map(id -> (Number) load.get(id)[1]).toList());
      c.getStyler().setXAxisLabelRotation(60);
      c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
      top = c;
    } else {
      XYChart c =
          new XYChartBuilder()
              .width(WIDTH)
              .height(HEIGHT)
              .title("Load per member, sorted: before the first step and after the last")
              .xAxisTitle("member rank")
              .yAxisTitle(unit)
              .build();
      c.addSeries("before", sortedRanks(load, 0));
      c.addSeries("after", sortedRanks(load, 1));
      c.getStyler().setMarkerSize(0);
      top = c;
    }
    Chart<?, ?> bottom;
    List<Number> moved = new ArrayList<>();
    List<Number> optimal = new ArrayList<>();
    for (StepResult s : steps) {
      moved.add(s.moved());
      optimal.add(s.optimalMoved());
    }
    if (steps.size() <= MAX_BARS) {
      CategoryChart c =
          new CategoryChartBuilder()
              .width(WIDTH)
              .height(HEIGHT)
              .title("Moves per step")
              .xAxisTitle("step")
              .yAxisTitle(unit + " moved")
              .build();
      List<String> labels = steps.stream().map(StepResult::step).toList();
      c.addSeries("moved", labels, moved);
      c.addSeries("optimum", labels, optimal);
      c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
      bottom = c;
    } else {
      XYChart c =
          new XYChartBuilder()
              .width(WIDTH)
              .height(HEIGHT)
              .title("Moves per step")
              .xAxisTitle("step")
              .yAxisTitle(unit + " moved")
              .build();
      double[] x = new double[steps.size()];
      for (int i = 0; i < x.length; i++) {
        x[i] = i + 1;
      }
      c.addSeries("moved", x, moved.stream().mapToDouble(Number::doubleValue).toArray());
      c.addSeries("optimum", x, optimal.stream().mapToDouble(Number::doubleValue).toArray());
      c.getStyler().setMarkerSize(0);
      bottom = c;
    }
    Charts.write(file, top, bottom);
  }

  private static double[] sortedRanks(Map<String, long[]> load, int which) {
    return load.values().stream()
        .mapToDouble(v -> Math.max(0, v[which]))
        .filter(v -> which == 1 || v >= 0)
        .sorted()
        .toArray();
  }

  /** Peak/average and moved/optimum per step, one series per strategy. */
  static void compare(Path file, Map<String, List<StepResult>> results) throws IOException {
    List<String> steps = results.values().iterator().next().stream().map(StepResult::step).toList();
    CategoryChart peak =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Peak load over fair share, per step (1.0 is perfect)")
            .xAxisTitle("step")
            .yAxisTitle("peak/average")
            .build();
    CategoryChart moves =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Keys moved over the optimum, per step (1.0 is minimal)")
            .xAxisTitle("step")
            .yAxisTitle("moved/optimum")
            .build();
    results.forEach(
        (name, list) -> {
          peak.addSeries(name, steps, list.stream().map(s -> (Number) s.peakToAverage()).toList());
          moves.addSeries(
              name,
              steps,
              list.stream().map(s -> (Number) Math.min(50, PlanReports.ratio(s))).toList());
        });
    peak.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    moves.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    Charts.write(file, peak, moves);
  }
}
