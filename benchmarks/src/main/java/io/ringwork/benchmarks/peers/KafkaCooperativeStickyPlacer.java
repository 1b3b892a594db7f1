package io.ringwork.benchmarks.peers;

import io.ringwork.ring.Member;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Kafka's client-side {@code CooperativeStickyAssignor}: every member subscribed to one topic of P
 * partitions, owning its current partitions (generation 1).
 */
final class KafkaCooperativeStickyPlacer implements Placer {

  private record Input(
      Map<String, List<PartitionInfo>> topics, Map<String, Subscription> subscriptions) {}

  @Override
  public Object prepare(PlacementCase c) {
    Map<String, List<TopicPartition>> owned = new HashMap<>();
    if (c.before() != null) {
      for (int p = 0; p < c.partitions(); p++) {
        owned
            .computeIfAbsent(c.previousOwners()[p], id -> new ArrayList<>())
            .add(new TopicPartition("topic", p));
      }
    }
    Map<String, Subscription> subscriptions = new HashMap<>();
    for (Member m : c.after()) {
      subscriptions.put(
          m.id(),
          new Subscription(
              List.of("topic"), null, owned.getOrDefault(m.id(), List.of()), 1, Optional.empty()));
    }
    List<PartitionInfo> partitions = new ArrayList<>(c.partitions());
    for (int p = 0; p < c.partitions(); p++) {
      partitions.add(new PartitionInfo("topic", p, null, null, null));
    }
    return new Input(Map.of("topic", partitions), subscriptions);
  }

  @Override
  public Object compute(Object prepared) {
    Input in = (Input) prepared;
    return new CooperativeStickyAssignor().assignPartitions(in.topics(), in.subscriptions());
  }

  /**
   * {@inheritDoc}
   *
   * <p>The cooperative protocol revokes partitions that change owner in one rebalance and assigns
   * them in a second one; this reads the owners after that second round, the table the group
   * converges to. The benchmark times the first round.
   */
  @Override
  @SuppressWarnings("unchecked")
  public String[] owners(Object result, PlacementCase c) {
    Map<String, List<TopicPartition>> first = (Map<String, List<TopicPartition>>) result;
    String[] owners = read(first, c.partitions());
    if (java.util.Arrays.stream(owners).anyMatch(java.util.Objects::isNull)) {
      Map<String, Subscription> subscriptions = new HashMap<>();
      for (Member m : c.after()) {
        subscriptions.put(
            m.id(),
            new Subscription(
                List.of("topic"),
                null,
                first.getOrDefault(m.id(), List.of()),
                2,
                Optional.empty()));
      }
      Input in = (Input) prepare(c);
      owners =
          read(
              new CooperativeStickyAssignor().assignPartitions(in.topics(), subscriptions),
              c.partitions());
    }
    return owners;
  }

  private static String[] read(Map<String, List<TopicPartition>> assignment, int partitions) {
    String[] owners = new String[partitions];
    for (Map.Entry<String, List<TopicPartition>> e : assignment.entrySet()) {
      for (TopicPartition tp : e.getValue()) {
        owners[tp.partition()] = e.getKey();
      }
    }
    return owners;
  }
}
