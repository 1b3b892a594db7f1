package io.ringwork.benchmarks.peers;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Placement;
import io.ringwork.ring.Strategy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Ringwork's own placements. */
final class OurPlacer implements Placer {

  private final Strategy strategy;

  OurPlacer(String name) {
    this.strategy = Strategy.parse(name);
  }

  private record Input(PartitionPlacement placement, Assignment previous, List<Member> after) {}

  @Override
  public Object prepare(PlacementCase c) {
    PartitionPlacement placement =
        Placement.newBuilder().strategy(strategy).partitions(c.partitions()).buildPartitioned();
    Assignment previous = null;
    if (c.before() != null) {
      Map<String, Integer> index = new HashMap<>();
      List<Member> sorted = c.before().stream().sorted((a, b) -> a.id().compareTo(b.id())).toList();
      for (int i = 0; i < sorted.size(); i++) {
        index.put(sorted.get(i).id(), i);
      }
      int[] table = new int[c.partitions()];
      for (int p = 0; p < table.length; p++) {
        table[p] = index.get(c.previousOwners()[p]);
      }
      previous =
          Assignment.fromTable(strategy, 1, Partitioner.of(c.partitions()), 1, sorted, table);
    }
    return new Input(placement, previous, c.after());
  }

  @Override
  public Object compute(Object prepared) {
    Input in = (Input) prepared;
    return in.placement().assign(strategy == Strategy.BALANCED ? in.previous() : null, in.after());
  }

  @Override
  public String[] owners(Object result, PlacementCase c) {
    Assignment a = (Assignment) result;
    String[] owners = new String[c.partitions()];
    for (int p = 0; p < owners.length; p++) {
      owners[p] = a.primary(p).id();
    }
    return owners;
  }
}
