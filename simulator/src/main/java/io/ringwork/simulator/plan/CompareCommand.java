package io.ringwork.simulator.plan;

import io.ringwork.simulator.cli.Progress;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ringwork compare}: the same scenario under every strategy, side by side. */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description =
        "Run one scenario under balanced, rendezvous, tooz, Guava's jump hash and a 160-point"
            + " ketama ring; report peak/average, moved/optimum and compute time, over keys.",
    footer = {
      "",
      "All strategies are measured over the same keys (--keys FILE or --sample-keys N): load is",
      "keys per member over its fair share, movement is keys moved against the optimum.",
      "",
      "Examples:",
      "  ringwork compare --example",
      "  ringwork compare --cluster fleet.yaml --remove c-4 --format csv",
      "  ringwork compare --example --sample-keys 200000 --chart compare.svg",
    })
public final class CompareCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;
  @Mixin StepOptions steps;

  @Option(names = "--example", description = "Use the built-in example cluster and steps.")
  boolean example;

  @Option(
      names = "--sample-keys",
      paramLabel = "N",
      description = "Synthetic keys when --keys is absent (default 1000000).")
  int sampleKeys = 1_000_000;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    steps.checkFormat();
    Planner.checkSampleKeys(sampleKeys);
    ClusterOptions.Setup setup;
    List<Scenario.Step> plan;
    if (example) {
      setup = cluster.resolve(Scenario.exampleCluster());
      plan =
          steps.changes.isEmpty() && steps.scenario == null && steps.randomEvents == null
              ? Scenario.exampleSteps()
              : steps.steps(setup.members());
    } else {
      setup = cluster.resolve();
      plan = steps.steps(setup.members());
    }
    String[] keys = steps.readKeys();
    if (keys == null) {
      keys = Planner.sampleKeys(sampleKeys, steps.seed);
    }
    PrintWriter err = spec.commandLine().getErr();
    Map<String, List<StepResult>> results = new LinkedHashMap<>();
    for (String strategy : Planner.COMPARED) {
      results.put(
          strategy,
          Planner.keyLevel(
              strategy, setup, plan, keys, new Progress(err, steps.progress, strategy)));
    }
    PrintWriter out = spec.commandLine().getOut();
    PlanReports.compare(out, steps.format, keys.length, results);
    out.flush();
    if (steps.chart != null) {
      PlanCharts.compare(steps.chart, results);
      err.println("chart written to " + steps.chart);
      err.flush();
    }
    return 0;
  }
}
