package io.ringwork.benchmarks.peers;

import io.ringwork.ring.Member;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.group.api.assignor.GroupAssignment;
import org.apache.kafka.coordinator.group.api.assignor.MemberAssignment;
import org.apache.kafka.coordinator.group.api.assignor.SubscribedTopicDescriber;
import org.apache.kafka.coordinator.group.api.assignor.SubscriptionType;
import org.apache.kafka.coordinator.group.assignor.UniformAssignor;
import org.apache.kafka.coordinator.group.modern.Assignment;
import org.apache.kafka.coordinator.group.modern.GroupSpecImpl;
import org.apache.kafka.coordinator.group.modern.MemberSubscriptionAndAssignmentImpl;

/**
 * Kafka's server-side {@code UniformAssignor} (KIP-848), with every member subscribed to one topic
 * of P partitions and its current partitions as its current assignment.
 */
final class KafkaUniformPlacer implements Placer {

  private static final Uuid TOPIC = Uuid.fromString("AAAAAAAAAAAAAAAAAAAAAQ");

  private record Input(GroupSpecImpl spec, SubscribedTopicDescriber topics) {}

  /**
   * One topic of {@code partitions} partitions, no racks (Kafka 4.4 builds its own from an image).
   */
  private record OneTopic(int partitions) implements SubscribedTopicDescriber {
    @Override
    public int numPartitions(Uuid topicId) {
      return topicId.equals(TOPIC) ? partitions : -1;
    }

    @Override
    public Set<String> racksForPartition(Uuid topicId, int partition) {
      return Set.of();
    }
  }

  @Override
  public Object prepare(PlacementCase c) {
    Map<String, Set<Integer>> current = new HashMap<>();
    Map<Integer, String> inverted = new HashMap<>();
    if (c.before() != null) {
      for (int p = 0; p < c.partitions(); p++) {
        current.computeIfAbsent(c.previousOwners()[p], id -> new HashSet<>()).add(p);
      }
    }
    Map<String, MemberSubscriptionAndAssignmentImpl> members = new HashMap<>();
    for (Member m : c.after()) {
      Set<Integer> mine = current.getOrDefault(m.id(), Set.of());
      mine.forEach(p -> inverted.put(p, m.id()));
      members.put(
          m.id(),
          new MemberSubscriptionAndAssignmentImpl(
              Optional.empty(),
              Optional.empty(),
              Set.of(TOPIC),
              new Assignment(Map.of(TOPIC, mine))));
    }
    GroupSpecImpl spec =
        new GroupSpecImpl(members, SubscriptionType.HOMOGENEOUS, Map.of(TOPIC, inverted));
    return new Input(spec, new OneTopic(c.partitions()));
  }

  @Override
  public Object compute(Object prepared) {
    Input in = (Input) prepared;
    return new UniformAssignor().assign(in.spec(), in.topics());
  }

  @Override
  public String[] owners(Object result, PlacementCase c) {
    String[] owners = new String[c.partitions()];
    for (Map.Entry<String, MemberAssignment> e : ((GroupAssignment) result).members().entrySet()) {
      for (int p : e.getValue().partitions().getOrDefault(TOPIC, Set.of())) {
        owners[p] = e.getKey();
      }
    }
    return owners;
  }
}
