package io.ringwork.simulator.plan;

import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Ring;
import io.ringwork.ring.ToozRing;
import io.ringwork.simulator.cli.ConnectTimeoutOption;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.LiveGroups;
import io.ringwork.simulator.cli.Progress;
import io.ringwork.simulator.cli.ZooKeeperClients;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
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
      "With --connect and --group the plan starts from the live group: its workers (weights,",
      "zones; draining members and observers left out), its strategy, partitions and replicas,",
      "and the assignment in force. It only reads the group.",
      "",
      "Examples:",
      "  ringwork plan --example",
      "  ringwork plan --connect 127.0.0.1:2181 --group conductors --add c-13,c-14 --remove c-2",
      "  ringwork plan --cluster fleet.yaml --add c-13=2@zone-b --remove c-4 --chart plan.png",
      "  ringwork plan --cluster fleet.yaml --fail-zone zone-c --max-moves 100 --format json",
      "  ringwork plan --member a --member b --random-events 1000 --seed 7 --format csv",
    })
public final class PlanCommand implements Callable<Integer> {

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

  @Option(
      names = "--connect",
      paramLabel = "HOST:PORT",
      description = "Plan from a live group on this ZooKeeper (with --group).")
  String connect;

  @Option(names = "--group", paramLabel = "G", description = "With --connect: the group.")
  String group;

  @Option(
      names = "--namespace",
      paramLabel = "PATH",
      description = "With --connect: the namespace (default /ringwork).")
  String namespace = "/ringwork";

  @Mixin ConnectTimeoutOption connectTimeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** A live group's starting point: its settings and workers, and the assignment in force. */
  private record Live(ClusterOptions.Setup setup, Assignment assignment) {}

  @Override
  public Integer call() throws Exception {
    steps.checkFormat();
    if (maxMoves != null && maxMoves < 1) {
      throw new InputException("--max-moves must be at least 1, got " + maxMoves);
    }
    ClusterOptions.Setup setup;
    List<Scenario.Step> plan;
    Assignment start = null;
    PrintWriter err = spec.commandLine().getErr();
    if ((connect == null) != (group == null)) {
      throw new InputException("--connect and --group go together (plan from a live group)");
    }
    if (connect != null) {
      if (example
          || cluster.cluster != null
          || !cluster.members.isEmpty()
          || cluster.strategy != null
          || cluster.partitions != null
          || cluster.replicas != null) {
        throw new InputException(
            "--connect plans from the live group's members and settings; drop --example,"
                + " --cluster, --member, --strategy, --partitions and --replicas");
      }
      Live live = readLive(err);
      setup = live.setup();
      start = live.assignment();
      plan = steps.steps(setup.members());
    } else if (example) {
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
    Progress progress = new Progress(err, steps.progress, "plan");
    String[] keys = steps.readKeys();
    List<StepResult> results;
    if (setup.partitioned()) {
      results = Planner.partitioned(setup, start, plan, maxMoves, keys, progress);
    } else {
      if (keys == null) {
        Planner.checkSampleKeys(sampleKeys);
        keys = Planner.sampleKeys(sampleKeys, steps.seed);
      }
      results = Planner.keyLevel("tooz", setup, plan, keys, progress);
    }
    PrintWriter out = spec.commandLine().getOut();
    PlanReports.plan(out, steps.format, setup, results, !setup.partitioned());
    out.flush();
    if (steps.chart != null) {
      PlanCharts.plan(steps.chart, setup, results);
      err.println("chart written to " + steps.chart);
      err.flush();
    }
    return 0;
  }

  /**
   * Reads the live group: its settings from the assignment in force ({@code balanced}: the stored
   * one; {@code rendezvous}: the one every worker computes), its live workers, and tells {@code
   * err} where the plan starts.
   *
   * @throws InputException (exit 2) if the group does not exist or has no live workers
   */
  private Live readLive(PrintWriter err) throws Exception {
    try (CuratorFramework client = ZooKeeperClients.connect(connect, null, connectTimeout)) {
      String groupPath = LiveGroups.existingGroup(client, connect, namespace, group);
      KeyRouter router = LiveGroups.router(client, groupPath, null);
      List<Member> workers = GroupStatus.liveWorkers(client, groupPath);
      if (workers.isEmpty()) {
        throw new InputException(
            "--group " + group + ": no live workers at " + groupPath + " on " + connect);
      }
      Ring ring;
      try {
        ring = GroupStatus.liveRing(client, groupPath, router);
      } catch (IllegalArgumentException e) {
        throw new InputException("--group " + group + ": " + e.getMessage());
      }
      if (ring instanceof ToozRing tooz) {
        err.printf(
            "planning from group %s on %s: %d live workers, tooz ring%n",
            group, connect, workers.size());
        err.flush();
        return new Live(
            new ClusterOptions.Setup(
                ring.strategy().configName(), tooz.pointsPerNode(), tooz.replicas(), workers),
            null);
      }
      Assignment a = (Assignment) ring;
      err.printf(
          "planning from group %s on %s: %d live workers, %s assignment version %d over %d"
              + " members%n",
          group, connect, workers.size(), a.strategy(), a.version(), a.members().size());
      err.flush();
      return new Live(
          new ClusterOptions.Setup(
              a.strategy().configName(), a.partitions(), a.replicas(), workers),
          a);
    }
  }
}
