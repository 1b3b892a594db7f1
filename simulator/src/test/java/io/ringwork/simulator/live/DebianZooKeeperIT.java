package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link StandaloneZooKeeperIT}'s scenario against Debian's older ZooKeeper 3.8 server, a
 * client/server version skew users meet. It is part of the build only where Debian's {@code
 * zookeeper} package is installed (the simulator POM's {@code debian-zookeeper} profile, activated
 * by the package's jar; {@code .ci/run} installs it), so it never runs as a skip.
 */
final class DebianZooKeeperIT {

  @TempDir Path dir;

  @Test
  void joinViewsAndKill9_againstDebiansZooKeeper38() throws Exception {
    for (Path jar : StandaloneZooKeeperIT.JARS) {
      assertThat(jar)
          .as("Debian's zookeeper package (apt-get install zookeeper): %s", jar)
          .exists();
    }
    StandaloneZooKeeperIT scenario = new StandaloneZooKeeperIT();
    scenario.dir = dir;
    scenario.run(
        String.join(":", Arrays.stream(StandaloneZooKeeperIT.JARS).map(Path::toString).toList()));
  }
}
