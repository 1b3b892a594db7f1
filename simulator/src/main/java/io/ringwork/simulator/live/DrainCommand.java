package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.Reports;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ringwork drain}: asks another member to drain, or withdraws the request. */
@Command(
    name = "drain",
    mixinStandardHelpOptions = true,
    description = {
      "Ask a live worker of a group to drain: it hands its partitions over and stays in the group",
      "with none until it leaves or is undrained (--undo). The request holds for the member's",
      "current incarnation. An unknown member or a missing group exits 2. Prints one JSON line",
      "{format, event: drain-requested|drain-withdrawn, group, member[, wasRequested]}."
    },
    footer = {
      "",
      "Examples:",
      "  ringwork drain --connect 127.0.0.1:2181 --group conductors --member c-7",
      "  ringwork drain --connect 127.0.0.1:2181 --group conductors --member c-7 --undo"
    })
public final class DrainCommand implements Callable<Integer> {

  @CommandLine.Mixin FleetTarget target;

  @Option(names = "--member", required = true, paramLabel = "ID", description = "The member.")
  String member;

  @Option(names = "--undo", description = "Withdraw the request: the member takes work again.")
  boolean undo;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try (FleetTarget.Admin a = target.open()) {
      ObjectNode n = new ObjectMapper().createObjectNode();
      n.put("format", Reports.FORMAT);
      if (undo) {
        boolean was = a.admin().undrain(member);
        n.put("event", "drain-withdrawn");
        n.put("group", target.group());
        n.put("member", member);
        n.put("wasRequested", was);
      } else {
        try {
          a.admin().drain(member);
        } catch (IllegalArgumentException e) {
          throw new InputException("--member: " + e.getMessage());
        }
        n.put("event", "drain-requested");
        n.put("group", target.group());
        n.put("member", member);
      }
      spec.commandLine().getOut().println(n);
      spec.commandLine().getOut().flush();
    }
    return 0;
  }
}
