package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.apache.curator.test.InstanceSpec;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An ensemble per test class: it goes on with one server stopped, names a bad index, and never
 * gives two roles one port.
 */
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

  /**
   * A CI run failed on "Client and election port must be different": curator-test had picked one
   * port twice (each pick closes its socket before the next, and Linux hands a just-closed port out
   * again now and then). With curator-test's picks, 200 rounds of nine held a repeat in each of two
   * trials (one round each); the fixture's picks hold their sockets until all are chosen.
   */
  @Test
  void portsOfAnEnsemble_areAllDistinct() throws Exception {
    for (int round = 0; round < 200; round++) {
      Set<Integer> ports = new HashSet<>();
      for (InstanceSpec spec : EnsembleBackend.specs(3)) {
        ports.add(spec.getPort());
        ports.add(spec.getElectionPort());
        ports.add(spec.getQuorumPort());
      }
      assertThat(ports).as("round %d", round).hasSize(9);
    }
  }

  @Test
  void badIndex_isNamed() {
    assertThatThrownBy(() -> zk.stopServer(3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("server must be between 0 and 2, got 3");
    assertThatThrownBy(zk::port).hasMessageContaining("an ensemble has 3 ports");
  }
}
