package io.ringwork.lock;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.test.RingworkZooKeeper;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Issue 18: lock-service cases found by reading the code, each confirmed here first. */
final class Issue18LocksTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private Fixture fixture;

  @AfterEach
  void tearDown() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  /**
   * A request waiting behind a holder is woken when its own session expires, instead of sleeping
   * until its timeout on a watch that died with the session: it fails at once, naming why, and
   * leaves nothing behind.
   */
  @Test
  void waitingAcquire_sessionExpires_failsPromptlyNotAtItsTimeout() throws Exception {
    fixture = new Fixture(zk);
    KeyLocks holder = fixture.locks("holder");
    CuratorFramework waiterClient = fixture.client(4000);
    KeyLocks waiter = fixture.locks("waiter", waiterClient, io.ringwork.ring.KeyRouter.wholeKey());
    LockHandle held = holder.acquire(LockRequest.of("vol-1", LockMode.EXCLUSIVE));
    CompletableFuture<Throwable> outcome =
        CompletableFuture.supplyAsync(
            () -> {
              try (LockHandle h =
                  waiter.acquire(
                      LockRequest.of("vol-1", LockMode.EXCLUSIVE)
                          .withTimeout(Duration.ofSeconds(60)))) {
                return null;
              } catch (Throwable t) {
                return t;
              }
            });
    // Wait until the request is queued.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> waiter.handles().size() == 1);
    long expiredAt = System.nanoTime();
    RingworkZooKeeper.expire(waiterClient);
    Throwable t = outcome.get(30, TimeUnit.SECONDS);
    long failedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - expiredAt);
    assertThat(t).isNotNull();
    assertThat(t).hasMessageContaining("session");
    assertThat(failedAfter).as("failed long before its 60 s timeout").isLessThan(15_000);
    held.release();
    assertThat(waiter.handles()).isEmpty();
  }
}
