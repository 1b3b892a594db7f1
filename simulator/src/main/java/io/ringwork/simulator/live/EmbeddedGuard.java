package io.ringwork.simulator.live;

import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerBuilder;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import sun.misc.Signal;

/**
 * Keeps {@code agent --embedded} from silently taking the only ZooKeeper of other members down: on
 * SIGTERM or SIGINT, while members of other sessions are registered on the embedded server (in any
 * group of the default namespace), the first signal is refused with a warning that names them; a
 * second signal within {@link #CONFIRM_MS}, or {@code --force}, stops the process (which drains as
 * usual through its shutdown hook).
 *
 * <p>A JVM shutdown hook cannot cancel an exit, so the signals are taken over with {@code
 * sun.misc.Signal}, the only way the JDK offers.
 */
final class EmbeddedGuard {

  static final long CONFIRM_MS = 10_000;

  private final Rebalancer rebalancer;
  private final boolean force;
  private final PrintWriter err;
  private volatile long refusedAt;

  private EmbeddedGuard(Rebalancer rebalancer, boolean force, PrintWriter err) {
    this.rebalancer = rebalancer;
    this.force = force;
    this.err = err;
  }

  /** Takes over SIGTERM and SIGINT for an agent that runs the embedded server. */
  static void install(Rebalancer rebalancer, boolean force, PrintWriter err) {
    EmbeddedGuard guard = new EmbeddedGuard(rebalancer, force, err);
    Signal.handle(new Signal("TERM"), guard::handle);
    Signal.handle(new Signal("INT"), guard::handle);
  }

  private void handle(Signal signal) {
    List<String> others = others();
    long now = System.nanoTime();
    synchronized (err) {
      if (!others.isEmpty()) {
        boolean confirmed = force || (refusedAt != 0 && now - refusedAt < CONFIRM_MS * 1_000_000);
        if (!confirmed) {
          refusedAt = now;
          err.println(
              "ringwork: not stopping: this process is the ZooKeeper of "
                  + others.size()
                  + " other member(s) "
                  + others
                  + ", which would retry for ever; stop them first, send SIG"
                  + signal.getName()
                  + " again within "
                  + CONFIRM_MS / 1000
                  + " s, or start with --force");
          err.flush();
          return;
        }
        err.println(
            "ringwork: warning: stopping the embedded ZooKeeper of "
                + others.size()
                + " other member(s) "
                + others);
        err.flush();
      }
    }
    Thread exit = new Thread(() -> System.exit(128 + signal.getNumber()), "ringwork-exit");
    exit.start();
  }

  /** The members of other sessions, as {@code group/id}; empty when they cannot be read. */
  private List<String> others() {
    List<String> others = new ArrayList<>();
    try {
      CuratorFramework client = RebalancerInternals.curator(rebalancer);
      long self = client.getZookeeperClient().getZooKeeper().getSessionId();
      String ns = RebalancerBuilder.DEFAULT_NAMESPACE;
      for (String group : client.getChildren().forPath(ns)) {
        String members;
        List<String> ids;
        try {
          members = GroupPaths.of(ns, group).members();
          ids = client.getChildren().forPath(members);
        } catch (KeeperException.NoNodeException | IllegalArgumentException notAGroup) {
          continue;
        }
        for (String id : ids) {
          Stat stat = client.checkExists().forPath(members + "/" + id);
          if (stat != null && stat.getEphemeralOwner() != self) {
            others.add(group + "/" + id);
          }
        }
      }
    } catch (Exception e) {
      // unreadable (the session is gone): nobody to protect that we can name
    }
    return others;
  }
}
