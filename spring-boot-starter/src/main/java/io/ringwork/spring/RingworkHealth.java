package io.ringwork.spring;

import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;

/**
 * What the {@code ringwork} health indicator reports, independent of the Boot line: up while the
 * member is stable, rebalancing or draining and connected; down before it starts, while
 * disconnected or suspended, after its session was lost (until it rejoins) and once closed.
 * Details: group, member, state, partitions held and the session.
 */
final class RingworkHealth {

  private final Rebalancer rebalancer;
  private final String group;

  RingworkHealth(Rebalancer rebalancer, String group) {
    this.rebalancer = rebalancer;
    this.group = group;
  }

  boolean up() {
    return switch (rebalancer.state()) {
        // The connection is read directly: the state follows it through the event thread.
      case STABLE, REBALANCING, DRAINING ->
          RebalancerInternals.curator(rebalancer).getZookeeperClient().isConnected();
      case LATENT, SUSPENDED, LOST, CLOSED -> false;
    };
  }

  Map<String, Object> details() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("group", group);
    d.put("member", rebalancer.memberId());
    d.put("state", rebalancer.state().name());
    d.put("partitions", rebalancer.ownedPartitions().size());
    d.put("session", session());
    return d;
  }

  private String session() {
    if (rebalancer.state() == Rebalancer.State.LATENT) {
      return "not started";
    }
    CuratorFramework c = RebalancerInternals.curator(rebalancer);
    try {
      long id = c.getZookeeperClient().getZooKeeper().getSessionId();
      boolean connected = c.getZookeeperClient().isConnected();
      return (connected ? "connected" : "disconnected") + " 0x" + Long.toHexString(id);
    } catch (Exception e) {
      return "unavailable: " + e.getMessage();
    }
  }
}
