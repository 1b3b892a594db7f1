package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.rebalancer.FleetState.Pause;
import io.ringwork.simulator.cli.Durations;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.Reports;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ringwork pause}: a maintenance pause of a live group that ends by itself. */
@Command(
    name = "pause",
    mixinStandardHelpOptions = true,
    description = {
      "Pause a live group's rebalancing for a while: only the members placed now stay placed,",
      "joiners get nothing and nothing moves, except the partitions of members that are gone",
      "(no live session and no reservation), which are re-owned at once. The pause ends by itself",
      "at its deadline (the ZooKeeper server's clock) or with 'ringwork resume'. Pausing a paused",
      "group starts its deadline again. Prints one JSON line {format, event: paused, group, reason,",
      "by, since, until, members}."
    },
    footer = {
      "",
      "Example:",
      "  ringwork pause --connect 127.0.0.1:2181 --group conductors --for 10m --reason 'db upgrade'"
    })
public final class PauseCommand implements Callable<Integer> {

  @CommandLine.Mixin FleetTarget target;

  @Option(
      names = "--for",
      required = true,
      paramLabel = "DURATION",
      description = "How long the pause lasts (e.g. 10m, 90s).")
  String duration;

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why, shown by inspect.")
  String reason = "";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Duration d = Durations.parse("--for", duration);
    if (d.isNegative() || d.isZero()) {
      throw new InputException("--for must be positive, got '" + duration + "'");
    }
    try (FleetTarget.Admin a = target.open()) {
      Pause p = a.admin().pause(d, reason);
      ObjectNode n = new ObjectMapper().createObjectNode();
      n.put("format", Reports.FORMAT);
      n.put("event", "paused");
      n.put("group", target.group());
      n.put("reason", p.reason());
      n.put("by", p.by());
      n.put("since", p.sinceMillis());
      n.put("until", p.untilMillis());
      p.members().forEach(n.putArray("members")::add);
      spec.commandLine().getOut().println(n);
      spec.commandLine().getOut().flush();
    }
    return 0;
  }
}
