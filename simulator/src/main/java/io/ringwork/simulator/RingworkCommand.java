package io.ringwork.simulator;

import io.ringwork.membership.GroupAccessException;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.RuntimeFailure;
import io.ringwork.simulator.demo.DemoCommand;
import io.ringwork.simulator.demo.DemoWorkerCommand;
import io.ringwork.simulator.live.AgentCommand;
import io.ringwork.simulator.live.DrainCommand;
import io.ringwork.simulator.live.InspectCommand;
import io.ringwork.simulator.live.JoinCommand;
import io.ringwork.simulator.live.LockCommand;
import io.ringwork.simulator.live.LocksCommand;
import io.ringwork.simulator.live.MembersCommand;
import io.ringwork.simulator.live.PauseCommand;
import io.ringwork.simulator.live.ResumeCommand;
import io.ringwork.simulator.live.ZooKeeperCommand;
import io.ringwork.simulator.plan.CompareCommand;
import io.ringwork.simulator.plan.LookupCommand;
import io.ringwork.simulator.plan.PlanCommand;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ringwork} command: plan rebalances, look up owners, compare strategies and run
 * workers.
 *
 * <p>Exit status: 0 on success, 2 on a usage or input error (the message names the file, the line
 * and what was wrong), 1 on a runtime failure.
 */
@Command(
    name = "ringwork",
    mixinStandardHelpOptions = true,
    version = "ringwork 0.1.0",
    description = "Hash-ring work distribution: plan rebalances, look up owners, run workers.",
    subcommands = {
      LookupCommand.class,
      PlanCommand.class,
      CompareCommand.class,
      AgentCommand.class,
      JoinCommand.class,
      MembersCommand.class,
      LockCommand.class,
      LocksCommand.class,
      InspectCommand.class,
      PauseCommand.class,
      ResumeCommand.class,
      DrainCommand.class,
      DemoCommand.class,
      DemoWorkerCommand.class,
      ZooKeeperCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Examples:",
      "  ringwork plan --example",
      "  ringwork lookup --strategy tooz --member foo --member bar --member baz fake",
      "  ringwork compare --cluster fleet.yaml --add c-13=2@zone-b",
    })
public final class RingworkCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  /** Returns a command line with Ringwork's error handling: input errors exit 2, failures 1. */
  public static CommandLine commandLine() {
    return commandLine(System.getenv());
  }

  /** Returns a command line whose live commands take defaults from {@code env} (RINGWORK_*). */
  static CommandLine commandLine(Map<String, String> env) {
    CommandLine cl = new CommandLine(new RingworkCommand());
    cl.setDefaultValueProvider(new EnvironmentDefaults(env));
    // Lets --add/--remove/... repeat; each occurrence is recorded in order as its own step.
    cl.setOverwrittenOptionsAllowed(true);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          if (e instanceof InputException || e instanceof IllegalArgumentException) {
            err.println("ringwork: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.USAGE;
          }
          err.println(
              "ringwork: failed: "
                  + (e instanceof RuntimeFailure || e instanceof GroupAccessException
                      ? e.getMessage() // says what could not be read or written, and why
                      : e.toString()));
          err.flush();
          return CommandLine.ExitCode.SOFTWARE;
        });
    cl.setParameterExceptionHandler(
        (e, args) -> {
          PrintWriter err = e.getCommandLine().getErr();
          err.println("ringwork: " + e.getMessage());
          err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
          err.flush();
          return CommandLine.ExitCode.USAGE;
        });
    return cl;
  }

  /** Whether the command runs on after {@code execute} returns: a worker or a server. */
  private static boolean keepsRunning(String[] args) {
    return args.length > 0
        && (args[0].equals("agent") || args[0].equals("join") || args[0].equals("zookeeper"));
  }

  /** Runs the command and exits with its status. */
  public static void main(String[] args) {
    int status = commandLine().execute(args);
    if (status != 0 || !keepsRunning(args)) {
      System.exit(status);
    }
  }
}
