package io.ringwork.simulator.demo;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.simulator.cli.WorkerEvents;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * {@code ringwork agent}, each rejected write ({@code stale}, with its cause), its holds for the
 * demo's strict history ({@code guard} per guard, {@code grants}: the spans of its grant reads
 * every 200 ms, {@code withdrawn}), {@code parked} when it pauses in its guard-to-write window, and
 * a {@code status} line every 200 ms. It reads commands on its standard input: {@code pause} (in
 * the next guard-to-write window) and {@code resume}. SIGTERM drains, then exits 0. Hidden: the
 * demo starts it.
 */
@Command(
    name = "demo-worker",
    hidden = true,
    description = "One worker process of 'ringwork demo --processes' (started by the demo).")
public final class DemoWorkerCommand implements Callable<Integer> {

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
    WorkerEvents events = new WorkerEvents(out, true); // the demo reads the lists
    EventRecorder recorder = new EventRecorder(events);
    DemoWork work =
        new DemoWork(
            id,
            DemoGroup.keysByPartition(DemoGroup.keys(resources)),
            Duration.ofMillis(sessionMs),
            (key, token, cause) ->
                events.emit(
                    "stale", n -> n.put("key", key).put("token", token).put("cause", cause)),
            recorder);
    CuratorFramework client = DemoGroup.workerClient(connect, sessionMs);
    Rebalancer rebalancer = DemoGroup.rebalancer(id, client, work.after(events));
    rebalancer.start();
    work.freezeDetector().start();
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("demo-worker-status"));
    ticker.scheduleAtFixedRate(recorder::flush, 200, 200, TimeUnit.MILLISECONDS);
    commands(work).start();
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
                    recorder.flush();
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

  /** Reads the demo's commands from standard input: pause and resume. */
  private static Thread commands(DemoWork work) {
    Thread t =
        DaemonThreads.thread(
            "demo-worker-commands",
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  switch (line.trim()) {
                    case "pause" -> work.pause();
                    case "resume" -> work.resume();
                    default -> {}
                  }
                }
              } catch (IOException e) {
                // the demo ended
              }
            });
    return t;
  }

  /**
   * Prints the worker's holds as events: one line per guard, the grant reads gathered into spans
   * (one per session, partition and token) printed every 200 ms, since the worker reads its grant
   * before every key.
   */
  private static final class EventRecorder implements DemoWork.Recorder {
    private final WorkerEvents events;
    private final Map<List<Long>, long[]> spans = new HashMap<>();

    EventRecorder(WorkerEvents events) {
      this.events = events;
    }

    @Override
    public synchronized void grantRead(long session, int partition, long token, long at) {
      long[] span =
          spans.computeIfAbsent(
              List.of(session, (long) partition, token), k -> new long[] {at, at});
      span[1] = Math.max(span[1], at);
    }

    /** Prints the grant spans gathered since the last flush. */
    void flush() {
      Map<List<Long>, long[]> out;
      synchronized (this) {
        if (spans.isEmpty()) {
          return;
        }
        out = new HashMap<>(spans);
        spans.clear();
      }
      events.emit(
          "grants",
          n -> {
            ArrayNode list = n.putArray("spans");
            out.forEach(
                (k, span) ->
                    list.addArray()
                        .add(k.get(0))
                        .add(k.get(1))
                        .add(k.get(2))
                        .add(span[0])
                        .add(span[1]));
          });
    }

    @Override
    public void guard(
        long session,
        String key,
        int partition,
        long token,
        boolean fastPath,
        long opened,
        long closed) {
      events.emit(
          "guard",
          n ->
              n.put("session", session)
                  .put("key", key)
                  .put("partition", partition)
                  .put("token", token)
                  .put("fast", fastPath)
                  .put("opened", opened)
                  .put("closed", closed));
    }

    @Override
    public void withdrawn(long session, long at) {
      events.emit("withdrawn", n -> n.put("session", session).put("at", at));
    }

    @Override
    public void parked(String key, long token) {
      events.emit("parked", n -> n.put("key", key).put("token", token));
    }
  }
}
