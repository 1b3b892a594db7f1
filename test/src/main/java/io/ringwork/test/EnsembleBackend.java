package io.ringwork.test;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.DirectoryUtils;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

/** An ensemble of ZooKeeper servers in this JVM (curator-test's {@link TestingCluster}). */
final class EnsembleBackend implements RingworkZooKeeper.Backend {

  private final TestingCluster cluster;
  private final List<InstanceSpec> servers;

  /**
   * Attempts at a start, on fresh ports each. This covers a start that fails with an exception (a
   * config the server refuses, a start that times out). It cannot cover a port another process
   * takes between choosing and binding it: curator-test's embedded servers keep ZooKeeper's default
   * exit handler, so a failed bind ends the JVM.
   */
  private static final int STARTS = 3;

  EnsembleBackend(int size) throws Exception {
    TestingCluster started = null;
    for (int attempt = 1; started == null; attempt++) {
      TestingCluster candidate = new TestingCluster(specs(size));
      try {
        candidate.start();
        started = candidate;
      } catch (Exception e) {
        candidate.close();
        // close() deletes the data of the servers that started; those after the failure never did.
        for (InstanceSpec spec : candidate.getInstances()) {
          File dir = spec.getDataDirectory();
          try {
            if (dir.exists()) {
              DirectoryUtils.deleteRecursively(dir);
            }
          } catch (IOException cleanup) {
            e.addSuppressed(cleanup);
          }
        }
        if (attempt == STARTS) {
          throw e;
        }
      }
    }
    cluster = started;
    servers = List.copyOf(cluster.getInstances());
  }

  /**
   * Three distinct free ports per server (client, quorum, election). curator-test's {@code new
   * TestingCluster(n)} picks each port by binding and closing a socket on its own, so two picks can
   * return the same port, and the server then refuses its config ("Client and election port must be
   * different"). Holding every socket open until all are chosen makes them distinct.
   */
  static List<InstanceSpec> specs(int size) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 3 * size; i++) {
        sockets.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
      }
      List<InstanceSpec> specs = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        int client = sockets.get(3 * i).getLocalPort();
        int quorum = sockets.get(3 * i + 1).getLocalPort();
        int election = sockets.get(3 * i + 2).getLocalPort();
        specs.add(new InstanceSpec(null, client, election, quorum, true, -1, -1, -1));
      }
      return specs;
    } finally {
      for (ServerSocket s : sockets) {
        s.close();
      }
    }
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
