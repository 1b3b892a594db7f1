package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerBuilder;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Strategy;
import io.ringwork.simulator.cli.Durations;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.RuntimeFailure;
import io.ringwork.simulator.cli.WorkerEvents;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ringwork agent}: one worker that takes its share and prints every event as JSON. */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    header = "Run one worker of a group (creating the group if needed); SIGTERM drains it.",
    description = {
      "Join the group, take a share of partitions and print one JSON object per event, each with",
      "\"format\":1: started, view, assigned (\"ranges\":\"0-15,32\", \"count\", \"tokenRanges\": each",
      "fencing token with its ranges, and \"session\", in hex), revoked and lost (\"ranges\", \"count\"), suspended, resumed,",
      "and drained ({\"complete\":true} when the handoff finished before --drain-timeout; with a",
      "lost session at once, \"reason\":\"session lost\"). SIGTERM or SIGINT drains, then exits 0.",
      "--partition-lists adds the old per-partition lists to assigned, revoked and lost.",
      "With --embedded this process is the group's ZooKeeper: while other members use it, a",
      "signal is refused once (with a warning); a second signal within 10 s, or --force, stops it.",
      "For a lasting group run 'ringwork zookeeper' and start every agent with --connect."
    },
    footer = {
      "",
      "Examples:",
      "  ringwork agent --embedded --group demo --id w1",
      "  ringwork agent --connect 127.0.0.1:2181 --group conductors --id c-7 --zone b --partitions 4096",
    })
public final class AgentCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--connect", paramLabel = "HOST:PORT", description = "ZooKeeper connect string.")
  String connect;

  @Option(
      names = "--embedded",
      description = "Run an embedded ZooKeeper on 127.0.0.1 (single machine).")
  boolean embedded;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Data directory of the embedded server.")
  Path dataDir;

  @Option(names = "--group", required = true, paramLabel = "G", description = "Group name.")
  String group;

  @Option(names = "--id", required = true, paramLabel = "ID", description = "This worker's id.")
  String id;

  @Option(names = "--weight", paramLabel = "W", description = "Relative capacity (default 1).")
  double weight = 1;

  @Option(names = "--zone", paramLabel = "Z", description = "Failure zone.")
  String zone;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description =
          "With --embedded: the port of the embedded server on 127.0.0.1 (default: free).")
  Integer port;

  @Option(
      names = "--partitions",
      paramLabel = "P",
      description =
          "Partitions, a power of two (default 4096); for tooz, points per node (default 32).")
  Integer partitions;

  @Option(names = "--replicas", paramLabel = "R", description = "Owners per partition (default 1).")
  int replicas = 1;

  @Option(
      names = "--strategy",
      paramLabel = "S",
      description = "balanced (default), rendezvous or tooz.")
  String strategy = "balanced";

  @Option(
      names = "--session-timeout",
      paramLabel = "MS",
      description = "ZooKeeper session timeout (default 10000).")
  long sessionTimeoutMs = 10_000;

  @Option(
      names = "--connect-timeout",
      paramLabel = "MS",
      description = "How long to wait for ZooKeeper at start (default: twice the session timeout).")
  Long connectTimeoutMs;

  @Option(
      names = "--wait-for-id",
      paramLabel = "DURATION",
      description =
          "If a previous process's session still holds this id (after kill -9), wait up to"
              + " DURATION (e.g. 30s) for it to expire instead of failing.")
  String waitForId;

  @Option(
      names = "--route-until",
      paramLabel = "C",
      description =
          "Route keys on their part up to the first C (KeyRouter.upTo(C)); stored in the group's"
              + " config, where locks, inspect and lookup read it.")
  Character routeUntil;

  @Option(
      names = "--settle-delay",
      paramLabel = "DURATION",
      description =
          "Join window: the leader waits this long after a membership change before it"
              + " rebalances, so that a burst of joins is one step (e.g. 2s; default 100ms).")
  String settleDelay;

  @Option(
      names = "--partition-lists",
      description =
          "Also print every partition as a JSON list (\"partitions\") and each one's token"
              + " (\"tokens\": {partition: token}) in assigned, revoked and lost.")
  boolean partitionLists;

  @Option(
      names = "--force",
      description = "With --embedded: stop on the first signal even while others use the server.")
  boolean force;

  @Option(
      names = "--drain-timeout",
      paramLabel = "MS",
      description = "How long SIGTERM waits for the handoff (default 30000).")
  long drainTimeoutMs = 30_000;

  @Option(
      names = "--restart-grace",
      paramLabel = "DURATION",
      description =
          "Keep this worker's partitions reserved for DURATION (e.g. 30s) when it stops on"
              + " SIGTERM/SIGINT or its session ends without a drain: nobody else is given them, and"
              + " the same --id started within DURATION gets them back. SIGTERM then leaves for a"
              + " restart instead of draining. Default: off.")
  String restartGrace;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Member self = checkOptions();
    Duration idWait = waitForId == null ? null : Durations.parse("--wait-for-id", waitForId);
    Duration settle = settleDelay == null ? null : Durations.parse("--settle-delay", settleDelay);
    Duration grace = restartGrace == null ? null : Durations.parse("--restart-grace", restartGrace);
    PrintWriter out = spec.commandLine().getOut();
    WorkerEvents events = new WorkerEvents(out, partitionLists);
    RebalancerBuilder b = builder(self, events, settle, grace);
    if (idWait != null) {
      FreeId.await(
          connect,
          RebalancerBuilder.DEFAULT_NAMESPACE,
          group,
          id,
          idWait,
          spec.commandLine().getErr());
    }
    Rebalancer rebalancer;
    try {
      rebalancer = b.build();
    } catch (IllegalArgumentException e) {
      throw new InputException(e.getMessage());
    }
    try {
      rebalancer.start();
    } catch (IllegalStateException e) {
      // Unreachable ZooKeeper, a config mismatch or a duplicate id: a runtime failure, exit 1,
      // and no "drained" event for a member that never joined.
      throw new RuntimeFailure(e.getMessage());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(onSignal(rebalancer, events, grace, out, stopped));
    String connectString = rebalancer.connectString();
    if (embedded) {
      // Other agents and 'ringwork members' join the demo here.
      PrintWriter err = spec.commandLine().getErr();
      err.println(
          "ringwork: embedded ZooKeeper at "
              + connectString
              + " (--connect "
              + connectString
              + "); it stops with this process: for a lasting group run 'ringwork zookeeper'");
      err.flush();
      EmbeddedGuard.install(rebalancer, force, err);
    }
    events.emit("started", n -> n.put("id", id).put("group", group).put("connect", connectString));
    stopped.await();
    return 0;
  }

  /**
   * Checks the options that need no builder and returns this worker's member.
   *
   * @throws InputException naming the first option that is wrong
   */
  private Member checkOptions() {
    if ((connect == null) == !embedded) {
      throw new InputException("give exactly one of --connect HOST:PORT and --embedded");
    }
    Member self;
    try {
      self = Member.of(id, weight, zone);
    } catch (IllegalArgumentException e) {
      throw new InputException("--id/--weight/--zone: " + e.getMessage());
    }
    if (sessionTimeoutMs < 1) {
      throw new InputException("--session-timeout must be positive, got " + sessionTimeoutMs);
    }
    if (connectTimeoutMs != null && connectTimeoutMs < 1) {
      throw new InputException("--connect-timeout must be positive, got " + connectTimeoutMs);
    }
    if (force && !embedded) {
      throw new InputException("--force applies only with --embedded");
    }
    if (waitForId != null && embedded) {
      throw new InputException("--wait-for-id applies only with --connect");
    }
    return self;
  }

  /**
   * Returns the rebalancer's builder as the options say.
   *
   * @throws InputException naming the option the builder refused
   */
  private RebalancerBuilder builder(
      Member self, WorkerEvents events, Duration settle, Duration grace) {
    RebalancerBuilder b;
    try {
      b =
          Rebalancer.newBuilder()
              .group(group)
              .member(self)
              .strategy(strategy)
              .replicas(replicas)
              .sessionTimeout(Duration.ofMillis(sessionTimeoutMs))
              .connectTimeout(
                  Duration.ofMillis(
                      connectTimeoutMs != null ? connectTimeoutMs : 2 * sessionTimeoutMs))
              .listener(events);
      if (routeUntil != null) {
        b.router(KeyRouter.upTo(routeUntil));
      }
      if (settle != null) {
        b.settleDelay(settle);
      }
      if (grace != null) {
        b.restartGrace(grace);
      }
    } catch (IllegalArgumentException e) {
      throw new InputException(e.getMessage());
    }
    if (partitions != null) {
      try {
        if (Strategy.parse(strategy) == Strategy.TOOZ) {
          b.toozPoints(partitions);
        } else {
          b.partitions(partitions);
        }
      } catch (IllegalArgumentException e) {
        throw new InputException("--partitions: " + e.getMessage());
      }
    }
    if (port != null && !embedded) {
      throw new InputException("--port applies only with --embedded");
    }
    if (port != null && (port < 1 || port > 65535)) {
      throw new InputException("--port must be between 1 and 65535, got " + port);
    }
    if (embedded) {
      b.embedded(dataDir, port == null ? 0 : port);
    } else {
      b.connectString(connect);
    }
    return b;
  }

  /**
   * The shutdown hook: on SIGTERM or SIGINT the worker leaves for a restart (with a restart grace)
   * or drains, says so in an event, and the JVM halts with status 0.
   */
  private Thread onSignal(
      Rebalancer rebalancer,
      WorkerEvents events,
      Duration grace,
      PrintWriter out,
      CountDownLatch stopped) {
    return new Thread(
        () -> {
          try {
            if (grace != null && !grace.isZero()) {
              boolean reserved = rebalancer.closeForRestart();
              events.emit("restarting", n -> n.put("reserved", reserved));
            } else {
              boolean handedOver = rebalancer.drain(Duration.ofMillis(drainTimeoutMs));
              boolean lost = !handedOver && events.sessionLost();
              if (lost) {
                // drain() returns at once then: nothing can be handed over from a lost session.
                spec.commandLine()
                    .getErr()
                    .println(
                        "ringwork: could not hand over: the session is lost; the others take"
                            + " its partitions once ZooKeeper has ended it");
                spec.commandLine().getErr().flush();
              }
              events.emit(
                  "drained",
                  n -> {
                    n.put("complete", handedOver);
                    if (lost) {
                      n.put("reason", "session lost");
                    }
                  });
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            rebalancer.close();
            out.flush();
            stopped.countDown();
            // A SIGTERM'd JVM would exit 143; a completed drain is a clean exit.
            Runtime.getRuntime().halt(0);
          }
        },
        "ringwork-agent-drain");
  }
}
