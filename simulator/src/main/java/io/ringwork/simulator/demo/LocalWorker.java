package io.ringwork.simulator.demo;

import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;

/** A worker in this JVM: its own session, its rebalancer, and a thread processing what it owns. */
final class LocalWorker implements Worker {
  private final DemoRun run;
  final String id;
  final CuratorFramework client;
  final Rebalancer rebalancer;
  final DemoWork work;
  final Thread thread;
  final BlockingQueue<Map.Entry<String, Long>> parked = new LinkedBlockingQueue<>();
  Map.Entry<String, Long> pausedAt;

  LocalWorker(DemoRun run, String id) throws InterruptedException {
    this.run = run;
    this.id = id;
    client = DemoGroup.workerClient(run.connectString, run.settings.sessionMs());
    work =
        new DemoWork(
            id,
            run.keysByPartition,
            Duration.ofMillis(run.settings.sessionMs()),
            (key, token, cause) -> run.staleWrite(id, key, token, cause),
            new HistoryRecorder(run.history, id) {
              @Override
              public void parked(String key, long token) {
                LocalWorker.this.parked.add(Map.entry(key, token));
              }
            });
    OwnershipListener counting =
        new OwnershipListener() {
          @Override
          public void onAssigned(List<Grant> grants) {
            run.activated.computeIfAbsent(id, k -> new AtomicLong()).addAndGet(grants.size());
          }
        };
    rebalancer =
        DemoGroup.rebalancer(id, client, work.after(counting), run.settings.restartGrace());
    rebalancer.start();
    thread = DaemonThreads.start("demo-" + id, this::work);
  }

  private void work() {
    try (DemoLedger.Writer writer = run.ledger.new Writer()) {
      work.run(rebalancer, writer);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      if (work.running) {
        run.settings.err().println("ringwork demo: worker " + id + " failed: " + e);
      }
    }
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int owned() {
    return rebalancer.ownedPartitions().size();
  }

  @Override
  public boolean stable() {
    return rebalancer.state() == Rebalancer.State.STABLE;
  }

  @Override
  public boolean counts() {
    return true; // its rebalancer runs on: it rejoins with a new session during the freeze
  }

  @Override
  public void drain() throws Exception {
    work.running = false;
    rebalancer.drain(Duration.ofSeconds(10));
    close();
  }

  @Override
  public void crash() throws Exception {
    work.running = false;
    run.expire(id(), client); // the server ends its session, as after a kill -9
    close();
  }

  @Override
  public void leaveForRestart() {
    work.running = false;
    work.resume();
    rebalancer.closeForRestart();
    client.close();
  }

  @Override
  public void freeze() throws Exception {
    work.pause(); // in its next guard-to-write window
    pausedAt = parked.poll(3, TimeUnit.SECONDS);
    run.expire(id(), client); // paused past its session: the group moves on without it
  }

  @Override
  public void thaw() throws Exception {
    run.awaitSuccessorWrote(pausedAt);
    pausedAt = null;
    work.resume(); // it wakes and writes with its old token: the ledger refuses
  }

  @Override
  public void close() {
    work.running = false;
    work.resume();
    rebalancer.close();
    client.close();
  }
}
