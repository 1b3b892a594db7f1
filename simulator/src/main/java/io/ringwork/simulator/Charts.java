package io.ringwork.simulator;

import de.erichseifert.vectorgraphics2d.Document;
import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Charts of plans and comparisons, as PNG or SVG, two panels stacked. */
final class Charts {

  private static final int WIDTH = 1000;
  private static final int HEIGHT = 420;
  private static final int MAX_BARS = 60;

  private Charts() {}

  /**
   * Checks a chart path before any work: .png or .svg, in a directory that exists (none is created
   * behind the user's back) and can be written.
   *
   * @throws InputException naming the path and the problem
   */
  static void checkPath(Path chart) {
    String name = chart.getFileName().toString().toLowerCase(Locale.ROOT);
    if (!name.endsWith(".png") && !name.endsWith(".svg")) {
      throw new InputException("--chart " + chart + ": the file must end in .png or .svg");
    }
    Path parent = chart.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new InputException(
          "--chart " + chart + ": the directory " + parent + " does not exist");
    }
    if (!Files.isWritable(parent) || (Files.exists(chart) && !Files.isWritable(chart))) {
      throw new InputException("--chart " + chart + ": cannot write there");
    }
  }

  /**
   * The demo's chart: on top, one lane per worker (its partitions over time, scaled to the lane)
   * with each fault as a vertical line named for its worker; below, fenced writes per second; the
   * title carries the seed and the verdict.
   */
  static void demo(
      Path file,
      Map<String, List<double[]>> owned,
      List<Double> seconds,
      List<Double> writes,
      List<Map.Entry<Double, String>> faults,
      String title)
      throws IOException {
    XYChart top =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title + ": partitions per worker, one lane each (faults as lines)")
            .xAxisTitle("second")
            .yAxisTitle("worker lane")
            .build();
    XYChart bottom =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Fenced writes per second")
            .xAxisTitle("second")
            .yAxisTitle("writes/s")
            .build();
    double peak = 1;
    for (List<double[]> points : owned.values()) {
      for (double[] point : points) {
        peak = Math.max(peak, point[1]);
      }
    }
    int lane = 0;
    for (Map.Entry<String, List<double[]>> w : owned.entrySet()) {
      List<Double> xs = new ArrayList<>();
      List<Double> ys = new ArrayList<>();
      for (double[] point : w.getValue()) {
        xs.add(point[0]);
        ys.add(lanePosition(lane, point[1], peak));
      }
      if (!xs.isEmpty()) {
        top.addSeries("lane " + lane + ": " + w.getKey(), xs, ys).setMarker(SeriesMarkers.NONE);
      }
      lane++;
    }
    bottom.addSeries("writes/s", seconds, writes);
    double lanes = Math.max(1, lane);
    for (Map.Entry<Double, String> f : faults) {
      top.addSeries(
              String.format(Locale.ROOT, "%.0fs %s", f.getKey(), f.getValue()),
              List.of(f.getKey(), f.getKey()),
              List.of(0.0, lanes))
          .setMarker(SeriesMarkers.NONE)
          .setLineStyle(SeriesLines.DASH_DASH);
    }
    top.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    bottom.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    write(file, top, bottom);
  }

  /** Where a worker's count sits in its lane: lane {@code i} spans [i, i + 0.85] at the peak. */
  static double lanePosition(int lane, double owned, double peak) {
    return lane + 0.85 * owned / peak;
  }

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
    write(file, top, bottom);
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
              list.stream().map(s -> (Number) Math.min(50, Reports.ratio(s))).toList());
        });
    peak.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    moves.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    write(file, peak, moves);
  }

  private static void write(Path file, Chart<?, ?> top, Chart<?, ?> bottom) throws IOException {
    boolean svg = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".svg");
    if (svg) {
      VectorGraphics2D g = new VectorGraphics2D();
      top.paint(g, WIDTH, HEIGHT);
      g.translate(0, HEIGHT);
      bottom.paint(g, WIDTH, HEIGHT);
      Document doc =
          new SVGProcessor().getDocument(g.getCommands(), new PageSize(0, 0, WIDTH, 2 * HEIGHT));
      try (OutputStream out = Files.newOutputStream(file)) {
        doc.writeTo(out);
      }
    } else {
      BufferedImage image = new BufferedImage(WIDTH, 2 * HEIGHT, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = image.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      top.paint(g, WIDTH, HEIGHT);
      g.translate(0, HEIGHT);
      bottom.paint(g, WIDTH, HEIGHT);
      g.dispose();
      ImageIO.write(image, "png", file.toFile());
    }
  }
}
