package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An ensemble per test class: it goes on with one server stopped, and names a bad index. */
final class RingworkZooKeeperEnsembleTest {

  @RegisterExtension
  static final RingworkZooKeeper zk = RingworkZooKeeper.ensemble(3).checkingLeaks();

  @Test
  void oneServerStopped_theEnsembleStillServes_andTheServerComesBack() throws Exception {
    assertThat(zk.ports()).hasSize(3);
    zk.stopServer(1);
    assertThat(RingworkZooKeeper.fourLetterWord(zk.ports().get(1), "srvr")).isEmpty();
    zk.client().create().withMode(CreateMode.PERSISTENT).forPath("/written-with-two");
    zk.restartServer(1);
    assertThat(zk.client().checkExists().forPath("/written-with-two")).isNotNull();
  }

  @Test
  void badIndex_isNamed() {
    assertThatThrownBy(() -> zk.stopServer(3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("server must be between 0 and 2, got 3");
    assertThatThrownBy(zk::port).hasMessageContaining("an ensemble has 3 ports");
  }
}
