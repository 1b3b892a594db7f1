package io.ringwork.simulator.cli;

import java.io.PrintWriter;

/** A progress bar on standard error, drawn only when it is a terminal or when asked for. */
public final class Progress {

  private final PrintWriter err;
  private final boolean enabled;
  private final String what;
  private int total;
  private int done;
  private long lastDraw;

  public Progress(PrintWriter err, boolean forced, String what) {
    this.err = err;
    this.enabled = forced || System.console() != null;
    this.what = what;
  }

  public void start(int steps) {
    total = steps;
    done = 0;
    draw(true);
  }

  public void step() {
    done++;
    draw(false);
  }

  public void done() {
    if (enabled && total > 0) {
      draw(true);
      err.println();
      err.flush();
    }
  }

  private void draw(boolean force) {
    if (!enabled || total == 0) {
      return;
    }
    long now = System.nanoTime();
    if (!force && now - lastDraw < 100_000_000L && done < total) {
      return;
    }
    lastDraw = now;
    int width = 30;
    int filled = (int) ((long) width * done / total);
    err.print(
        "\r"
            + what
            + " ["
            + "#".repeat(filled)
            + ".".repeat(width - filled)
            + "] "
            + done
            + "/"
            + total
            + " steps");
    err.flush();
  }
}
