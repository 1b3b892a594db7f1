package io.ringwork.test;

import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/** A ZooKeeper server in this JVM, 200 ms tick so that sessions expire close to their timeout. */
final class EmbeddedBackend implements RingworkZooKeeper.Backend {

  private final TestingServer server;

  EmbeddedBackend() throws Exception {
    server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 200, 1000), true);
  }

  @Override
  public String connectString() {
    return server.getConnectString();
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
