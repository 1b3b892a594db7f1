package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.EmbeddedZooKeeper;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.Reports;
import io.ringwork.simulator.cli.RuntimeFailure;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ringwork zookeeper}: a plain single ZooKeeper server on 127.0.0.1 for a local group, so
 * that no agent has to carry the group's server (and take it down when it drains).
 */
@Command(
    name = "zookeeper",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    header = "Run a plain local ZooKeeper server on 127.0.0.1 until SIGTERM or Ctrl-C.",
    description = {
      "Prints one JSON line when it serves: {\"format\":1,\"event\":\"started\",\"connect\":C}",
      "and {\"event\":\"stopped\"} on SIGTERM or SIGINT (exit 0). Single machine, no replication:",
      "for development and demos; production groups use a ZooKeeper ensemble."
    },
    footer = {
      "",
      "Example:",
      "  ringwork zookeeper --port 2181 --data-dir /tmp/rw-zk &",
      "  ringwork agent --connect 127.0.0.1:2181 --group demo --id w1"
    })
public final class ZooKeeperCommand implements Callable<Integer> {

  @Option(names = "--port", paramLabel = "PORT", description = "Client port on 127.0.0.1.")
  int port = 2181;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Data directory (default: a new temporary directory).")
  Path dataDir;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw new InputException("--port must be between 0 (any free port) and 65535, got " + port);
    }
    EmbeddedZooKeeper server;
    try {
      server = EmbeddedZooKeeper.start(dataDir, port);
    } catch (IllegalStateException e) {
      throw new RuntimeFailure(e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  emit(out, "stopped", null);
                  stopped.countDown();
                  Runtime.getRuntime().halt(0); // a stop on request is a clean exit
                },
                "ringwork-zookeeper-stop"));
    emit(out, "started", server.connectString());
    stopped.await();
    return 0;
  }

  private static void emit(PrintWriter out, String event, String connect) {
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("format", Reports.FORMAT);
    o.put("event", event);
    if (connect != null) {
      o.put("connect", connect);
    }
    o.put("ts", System.currentTimeMillis());
    synchronized (out) {
      out.println(o);
      out.flush();
    }
  }
}
