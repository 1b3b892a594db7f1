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
    return start(dataDir, 0);
  }

  /**
   * Starts a server with its data in {@code dataDir} (a new temporary directory when null) on
   * 127.0.0.1 at {@code port}, or on a free port it picks when {@code port} is 0.
   *
   * @throws IllegalArgumentException if the port is not between 0 and 65535
   * @throws IllegalStateException if the server cannot start, for example when the port is taken
   */
  public static EmbeddedZooKeeper start(Path dataDir, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
    }
    try {
      Path dir =
          dataDir != null
              ? Files.createDirectories(dataDir)
              : Files.createTempDirectory("ringwork-zk");
      if (port == 0) {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
          port = socket.getLocalPort();
        }
      } else {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
          // free: the server binds it next
        } catch (IOException taken) {
          throw new IllegalStateException(
              "could not start the embedded ZooKeeper: port " + port + " on 127.0.0.1 is taken");
        }
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
    } catch (IllegalStateException e) {
      throw e;
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
