package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.ring.Member;
import io.ringwork.simulator.HeadlessChromium;
import io.ringwork.simulator.InspectServing;
import io.ringwork.simulator.cli.ZooKeeperClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ringwork inspect --serve} in a real browser: Debian's headless Chromium loads the page
 * against a live group, every member is shown, and a member that joins appears without a reload.
 * Runs where {@code /usr/bin/chromium} exists (the simulator's {@code chromium} profile; {@code
 * .ci/run} installs it). Saves {@code target/inspect-serve.png}; with {@code
 * -Dringwork.screenshot=PATH} also there (how {@code docs/inspect-serve.png} is made).
 */
final class InspectServeBrowserIT {

  private static final Duration STABLE = Duration.ofSeconds(30);
  private TestingServer server;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = new TestingServer(true);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    server.close();
  }

  private Rebalancer worker(String id, double weight, String zone) throws InterruptedException {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group("conductors")
            .member(Member.of(id, weight, zone))
            .connectString(server.getConnectString())
            .sessionTimeout(Duration.ofSeconds(4))
            .partitions(64)
            .settleDelay(Duration.ofMillis(50))
            .metrics(new MetricRegistry())
            .build();
    open.add(0, r);
    r.start();
    assertThat(r.awaitStable(STABLE)).isTrue();
    return r;
  }

  @Test
  void page_liveGroup_showsEveryMemberThenAJoinWithoutReload() throws Exception {
    worker("conductor-1", 2, "zone-a");
    worker("conductor-2", 1, "zone-b");
    CuratorFramework c = ZooKeeperClients.connect(server.getConnectString());
    open.add(0, c);
    KeyLocks api = KeyLocks.newBuilder().client(c).group("conductors").memberId("api-1").build();
    open.add(0, api);
    api.start();
    LockHandle held =
        api.acquire(
            io.ringwork.lock.LockRequest.of("stack-7", LockMode.EXCLUSIVE)
                .withPurpose("delete stack")
                .withTimeout(STABLE));
    open.add(0, held);

    InspectServing serving = new InspectServing(server.getConnectString(), "conductors");
    open.add(0, serving);
    HeadlessChromium chromium = new HeadlessChromium();
    open.add(0, chromium);

    chromium.navigate(serving.base.toString());
    chromium.await("document.querySelectorAll('tr[data-member]').length === 2");
    assertThat(members(chromium)).containsExactly("conductor-1", "conductor-2");
    chromium.await("document.querySelector('tr[data-lock=\"stack-7\"]') !== null");
    chromium.evaluate("window.notReloaded = true");

    worker("conductor-3", 1, "zone-c");
    chromium.await("document.querySelector('tr[data-member=\"conductor-3\"]') !== null");
    assertThat(members(chromium)).containsExactly("conductor-1", "conductor-2", "conductor-3");
    assertThat(chromium.evaluate("window.notReloaded === true").asBoolean())
        .as("the page updated in place, without a reload")
        .isTrue();
    chromium.await(
        "document.getElementById('timeline').textContent.includes('conductor-3 joined')");
    chromium.await(
        "[...document.querySelectorAll('tr[data-member] td:nth-child(5)')]"
            + ".map(td => +td.textContent).reduce((a, b) => a + b, 0) === 64");

    byte[] png = chromium.screenshot();
    assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    Files.write(Path.of("target", "inspect-serve.png"), png);
    String copy = System.getProperty("ringwork.screenshot");
    if (copy != null) {
      Files.write(Path.of(copy), png);
    }
  }

  private static List<String> members(HeadlessChromium chromium) throws Exception {
    List<String> ids = new ArrayList<>();
    chromium
        .evaluate("[...document.querySelectorAll('tr[data-member]')].map(r => r.dataset.member)")
        .forEach(n -> ids.add(n.asText()));
    return ids;
  }
}
