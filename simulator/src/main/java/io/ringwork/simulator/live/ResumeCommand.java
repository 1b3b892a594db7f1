package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.simulator.cli.Reports;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ringwork resume}: ends a maintenance pause now. */
@Command(
    name = "resume",
    mixinStandardHelpOptions = true,
    description = {
      "End a live group's maintenance pause now; the group rebalances for its live members.",
      "Prints one JSON line {format, event: resumed, group, wasPaused}."
    },
    footer = {"", "Example:", "  ringwork resume --connect 127.0.0.1:2181 --group conductors"})
public final class ResumeCommand implements Callable<Integer> {

  @CommandLine.Mixin FleetTarget target;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try (FleetTarget.Admin a = target.open()) {
      boolean was = a.admin().resume();
      ObjectNode n = new ObjectMapper().createObjectNode();
      n.put("format", Reports.FORMAT);
      n.put("event", "resumed");
      n.put("group", target.group());
      n.put("wasPaused", was);
      spec.commandLine().getOut().println(n);
      spec.commandLine().getOut().flush();
    }
    return 0;
  }
}
