package io.ringwork.simulator;

import io.ringwork.rebalancer.Rebalancer;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ringwork demo-worker}: one worker of {@code ringwork demo --processes}, as its own JVM, so
 * that the demo's kill -9 and SIGSTOP are real signals. It joins the demo group, processes what it
 * owns into the shared ledger ({@link DemoWork}) and prints JSON lines: the ownership events of
 * {@code ringwork agent}, each rejected write ({@code stale}, with its cause) and a {@code status}
 * line every 200 ms. SIGTERM drains, then exits 0. Hidden: the demo starts it.
 */
@Command(
    name = "demo-worker",
    hidden = true,
    description = "One worker process of 'ringwork demo --processes' (started by the demo).")
final class DemoWorkerCommand implements Callable<Integer> {

  @Option(names = "--connect", required = true, paramLabel = "HOST:PORT")
  String connect;

  @Option(names = "--id", required = true, paramLabel = "ID")
  String id;

  @Option(names = "--jdbc", required = true, paramLabel = "URL")
  String jdbc;

  @Option(names = "--resources", required = true, paramLabel = "N")
  int resources;

  @Option(names = "--session-timeout", required = true, paramLabel = "MS")
  int sessionMs;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    AgentCommand.Events events = new AgentCommand.Events(out);
    DemoWork work =
        new DemoWork(
            id,
            DemoCommand.keysByPartition(DemoCommand.keys(resources)),
            Duration.ofMillis(sessionMs),
            (key, token, cause) ->
                events.emit(
                    "stale", n -> n.put("key", key).put("token", token).put("cause", cause)));
    CuratorFramework client = DemoCommand.workerClient(connect, sessionMs);
    Rebalancer rebalancer = DemoCommand.rebalancer(id, client, work.after(events));
    rebalancer.start();
    work.freezeDetector().start();
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "demo-worker-status");
              t.setDaemon(true);
              return t;
            });
    ticker.scheduleAtFixedRate(
        () ->
            events.emit(
                "status",
                n ->
                    n.put("owned", rebalancer.ownedPartitions().size())
                        .put("stable", rebalancer.state() == Rebalancer.State.STABLE)
                        .put("accepted", work.accepted.get())
                        .put("rejected", work.rejected.get())),
        0,
        200,
        TimeUnit.MILLISECONDS);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  work.running = false;
                  try {
                    boolean done = rebalancer.drain(Duration.ofSeconds(10));
                    events.emit("drained", n -> n.put("complete", done));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } catch (RuntimeException e) {
                    events.emit(
                        "drained", n -> n.put("complete", false).put("error", e.toString()));
                  } finally {
                    rebalancer.close();
                    client.close();
                    out.flush();
                    Runtime.getRuntime().halt(0);
                  }
                },
                "demo-worker-drain"));
    events.emit("started", n -> n.put("id", id));
    try (DemoLedger.Writer writer = DemoLedger.attach(jdbc).new Writer()) {
      work.run(rebalancer, writer);
    }
    // Only a drain stops the loop, and the drain's hook ends the process.
    Thread.sleep(Long.MAX_VALUE);
    return 0;
  }
}
