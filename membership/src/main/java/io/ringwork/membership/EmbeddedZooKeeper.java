package io.ringwork.membership;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/**
 * A single ZooKeeper server in this JVM (ZooKeeper's own {@link ZooKeeperServerEmbedded}),
 * listening on 127.0.0.1 on a port it picks, for single-machine use and demos.
 *
 * <p>The tick is 200 ms: ZooKeeper expires sessions on tick boundaries, so a short tick makes a
 * dead member's session end close to its timeout.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {

  private final ZooKeeperServerEmbedded server;
  private final String connectString;

  private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, String connectString) {
    this.server = server;
    this.connectString = connectString;
  }

  /**
   * Starts a server with its data in {@code dataDir}, or in a new temporary directory when it is
   * null.
   *
   * @throws IllegalStateException if the server cannot start
   */
  public static EmbeddedZooKeeper start(Path dataDir) {
    try {
      Path dir =
          dataDir != null
              ? Files.createDirectories(dataDir)
              : Files.createTempDirectory("ringwork-zk");
      int port;
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = socket.getLocalPort();
      }
      Properties config = new Properties();
      config.setProperty("tickTime", "200");
      config.setProperty("initLimit", "10");
      config.setProperty("syncLimit", "5");
      config.setProperty("dataDir", dir.resolve("data").toString());
      config.setProperty("clientPort", Integer.toString(port));
      config.setProperty("clientPortAddress", "127.0.0.1");
      config.setProperty("admin.enableServer", "false");
      config.setProperty("4lw.commands.whitelist", "");
      ZooKeeperServerEmbedded server =
          ZooKeeperServerEmbedded.builder()
              .baseDir(dir)
              .configuration(config)
              .exitHandler(ExitHandler.LOG_ONLY)
              .build();
      server.start();
      return new EmbeddedZooKeeper(server, "127.0.0.1:" + port);
    } catch (IOException e) {
      throw new IllegalStateException(
          "could not start the embedded ZooKeeper: " + e.getMessage(), e);
    } catch (Exception e) {
      throw new IllegalStateException(
          "could not start the embedded ZooKeeper: " + e.getMessage(), e);
    }
  }

  /** Returns {@code 127.0.0.1:PORT}. */
  public String connectString() {
    return connectString;
  }

  /** Stops the server. Idempotent; throws nothing. */
  @Override
  public void close() {
    try {
      server.close();
    } catch (RuntimeException e) {
      // already stopped
    }
  }
}
