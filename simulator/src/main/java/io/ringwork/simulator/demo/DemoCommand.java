package io.ringwork.simulator.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.simulator.cli.Charts;
import io.ringwork.simulator.cli.ConnectTimeoutOption;
import io.ringwork.simulator.cli.Durations;
import io.ringwork.simulator.cli.InputException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ringwork demo}: the framework's job, end to end, with no external service: an embedded
 * ZooKeeper, a group of workers that each process the resources they own with fenced writes to a
 * real SQL table, an "API" actor that locks keys the owners are working on, and a seeded stream of
 * faults; then a verdict.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    header = "Run a live group on a fenced SQL ledger through seeded faults, then give a verdict.",
    description = {
      "Run workers sharing resources through a live group on an embedded ZooKeeper, with fenced",
      "writes to a SQL table (embedded H2 by default), an API actor taking per-key locks, and",
      "faults (join, drain, crash, pause past the session, leader loss); then report: every",
      "resource processed, no overlapping holds, stale writes rejected. Exit 0 only on a pass."
    },
    footer = {"", "Example:", "  ringwork demo --workers 5 --duration 30s --seed 7 --format json"})
public final class DemoCommand implements Callable<Integer> {

  /** The restart grace of the workers when {@code restart} is among the faults. */
  static final Duration RESTART_GRACE = Duration.ofSeconds(30);

  @Option(names = "--workers", paramLabel = "N", description = "Workers at the start.")
  int workers = 5;

  @Option(names = "--resources", paramLabel = "N", description = "Resources.")
  int resources = 10_000;

  @Option(names = "--duration", paramLabel = "D", description = "How long faults run, e.g. 30s.")
  String duration = "30s";

  @Option(names = "--seed", paramLabel = "S", description = "Seed of the fault schedule.")
  long seed = 1;

  @Option(
      names = "--faults",
      paramLabel = "LIST",
      split = ",",
      description =
          "Fault kinds to inject: join, drain, crash, pause, leader, connection (the embedded"
              + " server restarts: every session is disconnected); restart (only when asked"
              + " for, in-process only: every worker in turn leaves for a restart and comes back"
              + " with the same id under a 30 s restart grace; the report counts partitions moved"
              + " to other workers).")
  List<String> faults = new ArrayList<>(Fault.DEFAULTS.stream().map(Fault::label).toList());

  @Option(names = "--session-timeout", paramLabel = "MS", description = "Workers' session timeout.")
  int sessionMs = 2000;

  @Option(
      names = "--jdbc",
      paramLabel = "URL",
      description = "The ledger's database (default: an embedded in-memory H2).")
  String jdbc;

  @Option(names = "--format", paramLabel = "FORMAT", description = "table (default) or json.")
  String format = "table";

  @Option(
      names = "--chart",
      paramLabel = "FILE",
      description = "Write writes/s and handoffs over time, with the faults marked (.png or .svg).")
  Path chart;

  @Option(
      names = "--connect",
      paramLabel = "HOST:PORT",
      description = "Run against this ensemble instead of an embedded server.")
  String connect;

  @Option(
      names = "--processes",
      description =
          "Run each worker as its own JVM: crash is a real kill -9, pause a real SIGSTOP. The"
              + " ledger is then served over TCP (an H2 server on 127.0.0.1, or --jdbc).")
  boolean processes;

  @Option(
      names = "--standby-warmup",
      paramLabel = "D",
      description =
          "After the run, measure warm standbys: owners pay a simulated warm-up of D (e.g. 300ms)"
              + " before their first write, standbys pay it ahead; report the handoff-to-first-write"
              + " of promoted standbys against cold owners (field 'standby').")
  String standbyWarmup;

  @CommandLine.Mixin ConnectTimeoutOption connectTimeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** The chart's samples, taken while the faults run. */
  private DemoSamples samples;

  /** What the options say, checked. */
  private record Checked(Duration length, FaultSchedule schedule, Duration warmup) {}

  @Override
  public Integer call() throws Exception {
    Checked checked = check();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    StatusLine.logsAwayFromTheStatusLine(err);
    long started = System.nanoTime();
    Duration grace = checked.schedule().contains(Fault.RESTART) ? RESTART_GRACE : null;
    try (DemoRun run =
        new DemoRun(new DemoRun.Settings(resources, sessionMs, seed, processes, grace, err))) {
      run.startServer(connect, connectTimeout);
      List<String> keys = DemoGroup.keys(resources);
      run.startLedger(keys, jdbc);
      for (int i = 0; i < workers; i++) {
        run.live.add(run.newWorker());
      }
      run.awaitStable(Duration.ofSeconds(60));
      run.watchSessions();
      FaultInjector faults = injectFaults(run, keys, checked, started, err);
      // Let every resource be processed once the faults have stopped.
      long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (run.ledger.unprocessed() > 0 && System.nanoTime() < settle) {
        Thread.sleep(200);
      }
      // The end state (who owns what, the balance) is read from a settled group: the last fault
      // (past --duration, every kind not yet injected is) may still be healing when the last
      // resource is processed. A connection fault that the workers noticed only after its 3 s
      // notice window left all three suspended, owning nothing, in 1 of 5 DemoJarIT loop runs at
      // load 23 (peak/average 0).
      boolean settled = run.awaitStable(Duration.ofSeconds(30));
      ObjectNode report = DemoReport.of(run, System.nanoTime() - started, RESTART_GRACE);
      report.put("settledAtEnd", settled);
      if (checked.warmup() != null) {
        report.set(
            "standby",
            new StandbyTrial(run.connectString, sessionMs, checked.warmup(), 3, err).run());
      }
      if (format.equals("json")) {
        out.println(report.toPrettyString());
      } else {
        DemoReport.table(out, report);
      }
      out.flush();
      if (chart != null) {
        chart(faults, report, err);
      }
      return report.path("verdict").asText().equals("pass") ? 0 : 1;
    }
  }

  /**
   * Runs the API actor and the fault schedule for the run's length, with the status line and the
   * samples once a second on their own thread, so a fault that blocks (a pause waits for the group
   * to settle) leaves no gap in them.
   */
  private FaultInjector injectFaults(
      DemoRun run, List<String> keys, Checked checked, long started, PrintWriter err)
      throws Exception {
    ApiActor api = new ApiActor(run, keys);
    api.start();
    Random rnd = new Random(seed);
    List<Fault> cycle = checked.schedule().cycle(rnd, processes);
    FaultInjector faults = new FaultInjector(run, rnd, started);
    samples = new DemoSamples(run, started);
    StatusLine status = new StatusLine(run, samples, faults, err);
    long end = System.nanoTime() + checked.length().toNanos();
    long spacing = checked.schedule().spacing(checked.length()).toNanos();
    long nextFault = System.nanoTime() + spacing;
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("demo-status"));
    ticker.scheduleAtFixedRate(status::print, 0, 1, TimeUnit.SECONDS);
    ticker.scheduleAtFixedRate(samples::sampleOwnership, 0, 250, TimeUnit.MILLISECONDS);
    int faultIndex = 0;
    // Every requested kind is injected at least once even when slow faults (a pause waits for the
    // group to settle; a JVM per worker starts slowly on a loaded machine) used up the duration:
    // past the end, the kinds not yet injected follow one another without spacing. That is
    // bounded: the cycle holds each kind once, and each fault waits at most 30 s for the group to
    // settle. (A bound of one more duration was not enough: at load 16, DemoJarIT's processes
    // run reached its leader fault only after it.)
    while (System.nanoTime() < end || faultIndex < cycle.size()) {
      boolean late = System.nanoTime() >= end;
      if (!cycle.isEmpty() && (late || System.nanoTime() >= nextFault)) {
        Fault fault = cycle.get(faultIndex++ % cycle.size());
        nextFault = System.nanoTime() + spacing; // from the start: a slow fault delays no other
        faults.inject(fault);
      }
      Thread.sleep(50);
    }
    api.stop();
    ticker.shutdown();
    ticker.awaitTermination(5, TimeUnit.SECONDS);
    if (StatusLine.TERMINAL) {
      err.println();
    }
    return faults;
  }

  private void chart(FaultInjector faults, ObjectNode report, PrintWriter err) throws Exception {
    DemoChart.write(
        chart,
        samples.owned(),
        samples.seconds(),
        samples.writes(),
        faults.times(),
        String.format(
            Locale.ROOT,
            "ringwork demo, seed %d: %s",
            seed,
            report.path("verdict").asText().toUpperCase(Locale.ROOT)));
    err.println("chart written to " + chart);
  }

  /**
   * Checks the options before anything starts.
   *
   * @throws InputException naming the first option that is wrong
   */
  private Checked check() {
    Duration length = Durations.parse("--duration", duration);
    if (workers < 1 || workers > 50) {
      throw new InputException("--workers must be between 1 and 50, got " + workers);
    }
    if (resources < 1 || resources > 1_000_000) {
      throw new InputException("--resources must be between 1 and 1000000, got " + resources);
    }
    FaultSchedule schedule = FaultSchedule.parse(faults);
    if (processes && schedule.contains(Fault.RESTART)) {
      throw new InputException(
          "--faults restart runs in-process only; for processes see 'ringwork agent"
              + " --restart-grace'");
    }
    if (sessionMs < 1000 || sessionMs > 60_000) {
      throw new InputException("--session-timeout must be between 1000 and 60000 ms");
    }
    if (!format.equals("table") && !format.equals("json")) {
      throw new InputException("--format must be table or json, got '" + format + "'");
    }
    if (chart != null) {
      Charts.checkPath(chart);
    }
    Duration warmup =
        standbyWarmup == null ? null : Durations.parse("--standby-warmup", standbyWarmup);
    if (warmup != null && (warmup.isNegative() || warmup.compareTo(Duration.ofSeconds(10)) > 0)) {
      throw new InputException("--standby-warmup must be between 0 and 10s, got " + standbyWarmup);
    }
    if (processes && jdbc != null && jdbc.startsWith("jdbc:h2:mem:")) {
      throw new InputException(
          "--jdbc " + jdbc + " is private to this JVM; with --processes give a server's URL");
    }
    if (jdbc != null) {
      DemoLedger.check(jdbc);
    }
    if (connect != null && schedule.contains(Fault.CONNECTION)) {
      if (spec.commandLine().getParseResult().hasMatchedOption("--faults")) {
        throw new InputException(
            "--faults connection restarts the embedded server; it cannot go with --connect");
      }
      schedule = schedule.without(Fault.CONNECTION);
    }
    return new Checked(length, schedule, warmup);
  }
}
