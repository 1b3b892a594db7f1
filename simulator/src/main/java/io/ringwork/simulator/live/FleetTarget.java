package io.ringwork.simulator.live;

import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.GroupAdmin;
import io.ringwork.simulator.cli.GroupOptions;
import io.ringwork.simulator.cli.InputException;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The group an operator's control ({@code pause}, {@code resume}, {@code drain}) acts on, and the
 * connection to it: a missing group is an input error (exit 2) and is never created.
 */
final class FleetTarget {

  @CommandLine.Mixin GroupOptions live;

  @Option(
      names = "--by",
      paramLabel = "NAME",
      description = "Who acts, recorded with the control (default: the user name).")
  String by = System.getProperty("user.name", "");

  /** The group's name. */
  String group() {
    return live.group();
  }

  /** A connected admin of the group; closing it closes the client. */
  record Admin(CuratorFramework client, GroupAdmin admin, String groupPath)
      implements AutoCloseable {
    @Override
    public void close() {
      client.close();
    }
  }

  /**
   * Connects and checks the group.
   *
   * @throws InputException if the group is malformed or does not exist
   * @throws RuntimeFailure if ZooKeeper cannot be reached
   */
  Admin open() throws Exception {
    String groupPath;
    try {
      groupPath = GroupPaths.of(live.namespace(), live.group()).root();
    } catch (IllegalArgumentException e) {
      throw new InputException("--namespace/--group: " + e.getMessage());
    }
    CuratorFramework client = live.client();
    try {
      return new Admin(client, GroupAdmin.of(client, groupPath, by), groupPath);
    } catch (IllegalArgumentException e) {
      client.close();
      throw new InputException(
          "--group " + live.group() + ": no such group at " + groupPath + " on " + live.connect());
    } catch (Exception e) {
      client.close();
      throw e;
    }
  }
}
