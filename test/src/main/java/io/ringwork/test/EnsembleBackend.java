package io.ringwork.test;

import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/** An ensemble of ZooKeeper servers in this JVM (curator-test's {@link TestingCluster}). */
final class EnsembleBackend implements RingworkZooKeeper.Backend {

  private final TestingCluster cluster;
  private final List<InstanceSpec> servers;

  EnsembleBackend(int size) throws Exception {
    cluster = new TestingCluster(size);
    servers = List.copyOf(cluster.getInstances());
    cluster.start();
  }

  @Override
  public String connectString() {
    return cluster.getConnectString();
  }

  @Override
  public List<Integer> clientPorts() {
    List<Integer> ports = new ArrayList<>();
    for (InstanceSpec s : servers) {
      ports.add(s.getPort());
    }
    return ports;
  }

  @Override
  public void stop() throws Exception {
    for (InstanceSpec s : servers) {
      cluster.killServer(s);
    }
  }

  @Override
  public void restart() throws Exception {
    for (InstanceSpec s : servers) {
      cluster.restartServer(s);
    }
  }

  @Override
  public void stop(int server) throws Exception {
    cluster.killServer(spec(server));
  }

  @Override
  public void restart(int server) throws Exception {
    cluster.restartServer(spec(server));
  }

  private InstanceSpec spec(int server) {
    if (server < 0 || server >= servers.size()) {
      throw new IllegalArgumentException(
          "server must be between 0 and " + (servers.size() - 1) + ", got " + server);
    }
    return servers.get(server);
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
