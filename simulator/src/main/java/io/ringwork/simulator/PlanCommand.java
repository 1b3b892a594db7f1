package io.ringwork.simulator;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ringwork plan}: what would a change to the fleet move, and how even is it after? */
@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description = "Replay changes to a cluster and report movement and balance per step.",
    footer = {
      "",
      "Figures per step: partitions moved and the optimum (the least any placement with exact",
      "quotas must move), keys moved with --keys, peak/average and min/average load (load over",
      "the member's fair share), zone violations, a per-member table, and the compute time.",
      "",
      "Examples:",
      "  ringwork plan --example",
      "  ringwork plan --cluster fleet.yaml --add c-13=2@zone-b --remove c-4 --chart plan.png",
      "  ringwork plan --cluster fleet.yaml --fail-zone zone-c --max-moves 100 --format json",
      "  ringwork plan --member a --member b --random-events 1000 --seed 7 --format csv",
    })
final class PlanCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;
  @Mixin StepOptions steps;

  @Option(
      names = "--example",
      description =
          "Plan the built-in example: 12 conductors in 3 zones; add 2, remove 1, lose a zone.")
  boolean example;

  @Option(
      names = "--max-moves",
      paramLabel = "K",
      description = "balanced: move at most K surplus partitions per step.")
  Integer maxMoves;

  @Option(
      names = "--sample-keys",
      paramLabel = "N",
      description = "tooz: synthetic keys to measure over (default 100000).")
  int sampleKeys = 100_000;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    steps.checkFormat();
    if (maxMoves != null && maxMoves < 1) {
      throw new InputException("--max-moves must be at least 1, got " + maxMoves);
    }
    ClusterOptions.Setup setup;
    List<Scenario.Step> plan;
    if (example) {
      if (cluster.cluster != null || !cluster.members.isEmpty()) {
        throw new InputException("--example brings its own cluster; drop --cluster and --member");
      }
      setup = cluster.resolve(Scenario.exampleCluster());
      plan =
          steps.changes.isEmpty() && steps.scenario == null && steps.randomEvents == null
              ? Scenario.exampleSteps()
              : steps.steps(setup.members());
    } else {
      setup = cluster.resolve();
      plan = steps.steps(setup.members());
    }
    if (maxMoves != null && !setup.strategy().equals("balanced")) {
      throw new InputException("--max-moves applies to the balanced strategy only");
    }
    PrintWriter err = spec.commandLine().getErr();
    Progress progress = new Progress(err, steps.progress, "plan");
    String[] keys = steps.readKeys();
    List<StepResult> results;
    if (setup.partitioned()) {
      results = Planner.partitioned(setup, plan, maxMoves, keys, progress);
    } else {
      if (keys == null) {
        Planner.checkSampleKeys(sampleKeys);
        keys = Planner.sampleKeys(sampleKeys, steps.seed);
      }
      results = Planner.keyLevel("tooz", setup, plan, keys, progress);
    }
    PrintWriter out = spec.commandLine().getOut();
    Reports.plan(out, steps.format, setup, results, !setup.partitioned());
    out.flush();
    if (steps.chart != null) {
      Charts.plan(steps.chart, setup, results);
      err.println("chart written to " + steps.chart);
      err.flush();
    }
    return 0;
  }
}
