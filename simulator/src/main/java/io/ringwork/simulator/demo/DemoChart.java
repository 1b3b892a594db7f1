package io.ringwork.simulator.demo;

import io.ringwork.simulator.cli.Charts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The demo's chart: partitions per worker and fenced writes per second over time. */
final class DemoChart {

  private static final int WIDTH = Charts.WIDTH;
  private static final int HEIGHT = Charts.HEIGHT;

  private DemoChart() {}

  /**
   * The demo's chart: on top, one lane per worker (its partitions over time, scaled to the lane)
   * with each fault as a vertical line named for its worker; below, fenced writes per second; the
   * title carries the seed and the verdict.
   */
  static void write(
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
    Charts.write(file, top, bottom);
  }

  /** Where a worker's count sits in its lane: lane {@code i} spans [i, i + 0.85] at the peak. */
  static double lanePosition(int lane, double owned, double peak) {
    return lane + 0.85 * owned / peak;
  }
}
