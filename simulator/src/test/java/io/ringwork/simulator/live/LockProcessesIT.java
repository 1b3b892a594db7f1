package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.lock.KeyLocks;
import io.ringwork.simulator.Processes;
import io.ringwork.simulator.cli.ZooKeeperClients;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * {@code ringwork lock} holders as separate JVMs: kill -9 and SIGSTOP past the session timeout. A
 * waiter holds within the session timeout + 1 s; the stopped holder, resumed, is told it lost the
 * lock; its token is below the next holder's, so a fenced store turns it away.
 */
final class LockProcessesIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SESSION_MS = 2000;

  private static String[] lock(TestingServer server, String id, String... more) {
    String[] base = {
      "lock",
      "--connect",
      server.getConnectString(),
      "--group",
      "it",
      "--id",
      id,
      "--key",
      "res",
      "--session-timeout",
      Integer.toString(SESSION_MS)
    };
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return args;
  }

  private static int waiters(KeyLocks observer) {
    return observer.inspect("res").waiters().size();
  }

  private static JsonNode event(Processes.Child c, String name) throws Exception {
    for (String line : c.lines) {
      JsonNode e = JSON.readTree(line);
      if (e.path("event").asText().equals(name)) {
        return e;
      }
    }
    return null;
  }

  @Test
  void kill9AndStop_ofAHolder_waiterHoldsWithinSessionTimeoutPlus1s_resumedHolderLost()
      throws Exception {
    InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, 200, -1);
    try (TestingServer server = new TestingServer(spec, true);
        Processes processes = new Processes();
        CuratorFramework client = ZooKeeperClients.connect(server.getConnectString());
        KeyLocks observer =
            KeyLocks.newBuilder().client(client).group("it").memberId("observer").build()) {
      observer.start();
      // 'lock' refuses a group that does not exist; the observer's start creates it (its config).
      assertThat(client.checkExists().forPath("/ringwork/it")).isNotNull();
      // kill -9 of the holder.
      Processes.Child holder =
          processes.ringwork("holder", lock(server, "holder", "--hold", "600000"));
      await().atMost(Duration.ofSeconds(30)).until(() -> event(holder, "acquired") != null);
      Processes.Child waiter =
          processes.ringwork("waiter", lock(server, "waiter", "--timeout", "30000"));
      await().atMost(Duration.ofSeconds(30)).until(() -> waiters(observer) == 1);
      assertThat(event(waiter, "acquired")).isNull();
      long killed = System.currentTimeMillis();
      holder.process.destroyForcibly();
      await().atMost(Duration.ofSeconds(30)).until(() -> event(waiter, "acquired") != null);
      long took = event(waiter, "acquired").path("ts").asLong() - killed;
      System.out.printf(
          "lock: kill -9 of the holder -> the waiter holds: %d ms (session %d ms)%n",
          took, SESSION_MS);
      assertThat(took).as("kill -9 -> waiter holds, ms").isLessThan(SESSION_MS + 1000 + 500);
      assertThat(event(waiter, "acquired").path("token").asLong())
          .isGreaterThan(event(holder, "acquired").path("token").asLong());
      assertThat(waiter.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(waiter.process.exitValue()).isZero();

      // SIGSTOP of the holder past its session timeout, then SIGCONT.
      Processes.Child frozen =
          processes.ringwork("frozen", lock(server, "frozen", "--hold", "600000"));
      await().atMost(Duration.ofSeconds(30)).until(() -> event(frozen, "acquired") != null);
      long frozenToken = event(frozen, "acquired").path("token").asLong();
      frozen.signal("STOP");
      Processes.Child next =
          processes.ringwork("next", lock(server, "next", "--timeout", "30000", "--hold", "3000"));
      await().atMost(Duration.ofSeconds(30)).until(() -> event(next, "acquired") != null);
      long nextToken = event(next, "acquired").path("token").asLong();
      assertThat(nextToken).isGreaterThan(frozenToken);
      frozen.signal("CONT");
      await().atMost(Duration.ofSeconds(30)).until(() -> event(frozen, "lost") != null);
      assertThat(frozen.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(frozen.process.exitValue()).isEqualTo(1);
      // A ledger that keeps the highest token per key refuses the resumed holder's write.
      Fenced ledger = new Fenced();
      assertThat(ledger.write(nextToken)).isTrue();
      assertThat(ledger.write(frozenToken)).isFalse();
      assertThat(next.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(next.process.exitValue()).isZero();
    }
  }

  private static final class Fenced {
    private long highest;

    boolean write(long token) {
      if (token < highest) {
        return false;
      }
      highest = token;
      return true;
    }
  }
}
