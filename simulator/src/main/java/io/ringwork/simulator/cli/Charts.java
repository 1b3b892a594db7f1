package io.ringwork.simulator.cli;

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
import java.util.Locale;
import javax.imageio.ImageIO;
import org.knowm.xchart.internal.chartpart.Chart;

/** Writes charts as PNG or SVG, two panels stacked; checks a chart path before any work. */
public final class Charts {

  /** A panel's width in pixels. */
  public static final int WIDTH = 1000;

  /** A panel's height in pixels. */
  public static final int HEIGHT = 420;

  private Charts() {}

  /**
   * Checks a chart path before any work: .png or .svg, in a directory that exists (none is created
   * behind the user's back) and can be written.
   *
   * @throws InputException naming the path and the problem
   */
  public static void checkPath(Path chart) {
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

  /** Writes two panels, one above the other, as PNG or SVG by the file's extension. */
  public static void write(Path file, Chart<?, ?> top, Chart<?, ?> bottom) throws IOException {
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
