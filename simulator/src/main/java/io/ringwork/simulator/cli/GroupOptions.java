package io.ringwork.simulator.cli;

import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options of a command that reads or controls one live group of Ringwork's own layout ({@code
 * inspect}, {@code locks}, {@code pause}, {@code resume}, {@code drain}): {@code --connect}, {@code
 * --group}, {@code --namespace} and {@code --connect-timeout}, as a picocli mixin.
 */
public final class GroupOptions {

  @Option(
      names = "--connect",
      required = true,
      paramLabel = "HOST:PORT",
      description = "ZooKeeper connect string.")
  private String connect;

  @Option(names = "--group", required = true, paramLabel = "G", description = "Group name.")
  private String group;

  @Option(
      names = "--namespace",
      paramLabel = "PATH",
      description = "Namespace (default /ringwork).")
  private String namespace = "/ringwork";

  @CommandLine.Mixin private ConnectTimeoutOption connectTimeout;

  /** The ZooKeeper connect string. */
  public String connect() {
    return connect;
  }

  /** The group's name. */
  public String group() {
    return group;
  }

  /** The namespace the group lives under. */
  public String namespace() {
    return namespace;
  }

  /**
   * Returns a started client connected to {@link #connect()}, waiting at most the {@code
   * --connect-timeout}.
   *
   * @throws InputException if the timeout is out of range
   * @throws RuntimeFailure if ZooKeeper cannot be reached in time
   * @throws InterruptedException if interrupted while waiting
   */
  public CuratorFramework client() throws InterruptedException {
    return ZooKeeperClients.connect(connect, null, connectTimeout);
  }
}
