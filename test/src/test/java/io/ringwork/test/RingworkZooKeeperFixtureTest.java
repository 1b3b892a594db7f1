package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fixture as an instance field: a server per test, and a leak check that fails while a client
 * leaves an ephemeral node and a watch behind, and passes once it is closed.
 */
final class RingworkZooKeeperFixtureTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  private CuratorFramework newClient() {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .retryPolicy(new RetryOneTime(200))
            .ensembleTracker(false)
            .build();
    c.start();
    return c;
  }

  @Test
  void leakCheck_seesAnEphemeralNodeAndAWatch_thenNothingAfterClose() throws Exception {
    CuratorFramework c = newClient();
    c.create().withMode(CreateMode.EPHEMERAL).forPath("/left-open");
    c.checkExists().watched().forPath("/watched");
    // Its window only has to be long enough for one look to complete on a loaded machine.
    assertThatThrownBy(() -> zk.assertNoLeaks(Duration.ofSeconds(3)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("/left-open")
        .hasMessageContaining("1 watches");
    c.close();
    zk.assertNoLeaks();
  }

  /** Each run must find a fresh server: a shared one would still hold the previous run's node. */
  @RepeatedTest(2)
  void instanceField_givesEachTestItsOwnServer() throws Exception {
    CuratorFramework c = zk.client();
    assertThat(c.checkExists().forPath("/marker")).isNull();
    c.create().forPath("/marker");
    assertThat(zk.ports()).containsExactly(zk.port());
  }

  @Test
  void scaled_multipliesByTheTimingProperty() {
    String before = System.getProperty(RingworkZooKeeper.TIMING_PROPERTY);
    try {
      System.setProperty(RingworkZooKeeper.TIMING_PROPERTY, "2.5");
      assertThat(RingworkZooKeeper.scaled(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(5));
    } finally {
      if (before == null) {
        System.clearProperty(RingworkZooKeeper.TIMING_PROPERTY);
      } else {
        System.setProperty(RingworkZooKeeper.TIMING_PROPERTY, before);
      }
    }
  }

  @Test
  void stopServerOfOne_isForAnEnsemble() {
    assertThatThrownBy(() -> zk.stopServer(0))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("ensemble");
  }
}
