package io.ringwork.simulator.demo;

import com.codahale.metrics.MetricRegistry;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerBuilder;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Partitioner;
import io.ringwork.simulator.cli.RuntimeFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * The demo's group as every demo process builds it: its name, partitions, resource keys, and a
 * worker's client and rebalancer.
 */
final class DemoGroup {

  /** The demo's group name. */
  static final String GROUP = "demo";

  /** The demo's partitions. */
  static final int PARTITIONS = 256;

  private DemoGroup() {}

  /** The demo's resource keys: {@code node-N}, and every tenth {@code stack-S/nested-N}. */
  static List<String> keys(int resources) {
    List<String> keys = new ArrayList<>(resources);
    int stacks = Math.max(1, resources / 20);
    for (int i = 0; keys.size() < resources; i++) {
      if (i % 10 == 9) {
        keys.add("stack-" + (i % stacks) + "/nested-" + i); // co-located with its stack
      } else {
        keys.add("node-" + i);
      }
    }
    return keys;
  }

  /** The keys of each partition. */
  static Map<Integer, List<String>> keysByPartition(List<String> keys) {
    Partitioner part = Partitioner.of(PARTITIONS, KeyRouter.upTo('/'));
    Map<Integer, List<String>> byPartition = new HashMap<>();
    for (String k : keys) {
      byPartition.computeIfAbsent(part.partition(k), p -> new ArrayList<>()).add(k);
    }
    return byPartition;
  }

  /** Returns a demo worker's own started, connected client (its own session). */
  static CuratorFramework workerClient(String connect, int sessionMs) throws InterruptedException {
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(sessionMs)
            .retryPolicy(new ExponentialBackoffRetry(50, 10, 500))
            .build();
    client.start();
    if (!client.blockUntilConnected(10, TimeUnit.SECONDS)) {
      client.close();
      throw new RuntimeFailure("cannot reach ZooKeeper at " + connect);
    }
    return client;
  }

  /** Builds a demo member's rebalancer. */
  static Rebalancer rebalancer(String id, CuratorFramework client, OwnershipListener listener) {
    return rebalancer(id, client, listener, null);
  }

  /** Builds a demo member's rebalancer with a restart grace (null: off). */
  static Rebalancer rebalancer(
      String id, CuratorFramework client, OwnershipListener listener, Duration restartGrace) {
    RebalancerBuilder b = Rebalancer.newBuilder();
    if (restartGrace != null) {
      b.restartGrace(restartGrace);
    }
    return b.group(GROUP)
        .member(Member.of(id))
        .curator(client)
        .partitions(PARTITIONS)
        .router(KeyRouter.upTo('/'))
        .settleDelay(Duration.ofMillis(100))
        .revokeDeadline(Duration.ofSeconds(2))
        .metrics(new MetricRegistry())
        .listener(listener)
        .build();
  }
}
