package io.ringwork.simulator.demo;

import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockRequest;
import io.ringwork.lock.LockState;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.membership.internal.DaemonThreads;
import io.ringwork.ring.KeyRouter;
import io.ringwork.simulator.cli.ZooKeeperClients;
import io.ringwork.test.StrictHistory;
import io.ringwork.test.StrictHistory.Incarnation;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.apache.curator.framework.CuratorFramework;

/** Takes locks on random keys while owners work on them: the contested-resource path. */
final class ApiActor {
  private final DemoRun run;
  private final List<String> keys;
  private final Thread thread;
  private volatile boolean running = true;
  private final CuratorFramework client;
  private final KeyLocks locks;

  ApiActor(DemoRun run, List<String> keys) throws InterruptedException {
    this.run = run;
    this.keys = keys;
    client = ZooKeeperClients.connect(run.connectString);
    locks =
        KeyLocks.newBuilder()
            .client(client)
            .group(DemoGroup.GROUP)
            .memberId("api")
            .router(KeyRouter.upTo('/'))
            .build();
    thread = DaemonThreads.thread("demo-api", this::run);
  }

  void start() {
    locks.start();
    thread.start();
  }

  private void run() {
    Random rnd = new Random(run.settings.seed() + 1);
    try (DemoLedger.Writer writer = run.ledger.new Writer()) {
      while (running) {
        String key = keys.get(rnd.nextInt(keys.size()));
        try (LockHandle h =
            locks.acquire(
                LockRequest.of(key, LockMode.EXCLUSIVE)
                    .withPurpose("api update")
                    .withTimeout(Duration.ofSeconds(2)))) {
          Incarnation me =
              new Incarnation("api", client.getZookeeperClient().getZooKeeper().getSessionId());
          StrictHistory.Hold hold =
              run.history.lockAcquired(
                  me, key, StrictHistory.Mode.valueOf(h.mode().name()), h.token());
          try {
            writer.issuedKey(key, h.token());
            if (!writer.write(key, "api", h.token(), false)) {
              run.staleWrite(
                  "api", key, h.token(), h.state() == LockState.LOST ? "lost" : "unexplained");
            }
          } finally {
            hold.close(); // as it releases: the next holder may be granted before the reply
          }
          run.lockHolds.incrementAndGet();
        } catch (LockTimeoutException e) {
          run.lockTimeouts.incrementAndGet();
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      if (running) {
        run.settings.err().println("ringwork demo: api failed: " + e);
      }
    }
  }

  void stop() throws InterruptedException {
    running = false;
    thread.join(5000);
    locks.close();
    client.close();
  }
}
