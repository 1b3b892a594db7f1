package io.ringwork.simulator.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The demo's live status, once a second on stderr: one line refreshed in place on a terminal, one
 * line per second to a pipe or file.
 */
final class StatusLine {

  /** Whether the status goes to a terminal (refreshed in place) or to a pipe or file (lines). */
  static final boolean TERMINAL = System.console() != null;

  private final DemoRun run;
  private final DemoSamples samples;
  private final FaultInjector faults;
  private final PrintWriter err;

  StatusLine(DemoRun run, DemoSamples samples, FaultInjector faults, PrintWriter err) {
    this.run = run;
    this.samples = samples;
    this.faults = faults;
    this.err = err;
  }

  /** Samples the writes and prints the line. */
  void print() {
    double second = samples.second();
    long accepted = samples.sampleWrites(second);
    int rebalancing = 0;
    List<String> owned = new ArrayList<>();
    for (Worker w : run.live) {
      owned.add(w.id() + " " + (w.counts() ? Integer.toString(w.owned()) : "paused"));
      if (w.counts() && !w.stable()) {
        rebalancing++;
      }
    }
    String b =
        format(
            second,
            owned,
            faults.last(),
            accepted,
            run.ledger.rejected.get() + run.childRejected.get(),
            rebalancing,
            run.lockHolds.get(),
            run.lockTimeouts.get());
    synchronized (err) {
      if (TERMINAL) {
        // One line, refreshed in place; cut to the terminal's width, since a wrapped line is not.
        err.print("\r\033[K" + b.substring(0, Math.min(b.length(), terminalWidth() - 1)));
      } else {
        err.println(b);
      }
      err.flush();
    }
  }

  /**
   * The live status line: the time, each worker with its partitions, the fault in progress or last
   * injected ({@code fault: crash w3}), writes, stale writes rejected, handoffs and API locks.
   */
  static String format(
      double second,
      List<String> workers,
      String fault,
      long writes,
      long rejected,
      int rebalancing,
      long locks,
      long lockTimeouts) {
    return String.format(
        Locale.ROOT,
        "ringwork demo %4.0fs: %s | fault: %s | writes %d, stale rejected %d, handoffs %d,"
            + " api locks %d (timed out %d)",
        second,
        String.join(", ", workers),
        fault == null ? "none yet" : fault,
        writes,
        rejected,
        rebalancing,
        locks,
        lockTimeouts);
  }

  private static int terminalWidth() {
    try {
      return Math.max(40, Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "120")));
    } catch (NumberFormatException e) {
      return 120;
    }
  }

  /**
   * On a terminal the status line is refreshed in place, so log lines written to the same stderr
   * would glue onto it: they go to a file instead (unless a log file is already configured), and
   * its path is printed once. Must run before the first logger is created.
   */
  static void logsAwayFromTheStatusLine(PrintWriter err) throws IOException {
    String property = "org.slf4j.simpleLogger.logFile";
    if (!TERMINAL || System.getProperty(property) != null) {
      return;
    }
    Path log = Files.createTempFile("ringwork-demo-", ".log");
    System.setProperty(property, log.toString());
    err.println("ringwork demo: logs in " + log);
    err.flush();
  }
}
