package io.ringwork.test;

import java.util.List;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * A ZooKeeper server in this JVM, 200 ms tick so that sessions expire close to their timeout.
 *
 * <p>The tick alone would cap sessions at 20 ticks (4 s); the cap is raised to {@link
 * #MAX_SESSION_MS} so that a test can give a session a margin wider than a loaded machine's
 * reconnect time.
 */
final class EmbeddedBackend implements RingworkZooKeeper.Backend {

  static final int MAX_SESSION_MS = 60_000;

  private final TestingServer server;

  EmbeddedBackend() throws Exception {
    server =
        new TestingServer(
            new InstanceSpec(
                null,
                -1,
                -1,
                -1,
                true,
                -1,
                200,
                1000,
                Map.of("maxSessionTimeout", String.valueOf(MAX_SESSION_MS))),
            true);
  }

  @Override
  public String connectString() {
    return server.getConnectString();
  }

  @Override
  public List<Integer> clientPorts() {
    return List.of(server.getPort());
  }

  @Override
  public void stop() throws Exception {
    server.stop();
  }

  @Override
  public void restart() throws Exception {
    server.restart();
  }

  @Override
  public void close() throws Exception {
    server.close();
  }
}
