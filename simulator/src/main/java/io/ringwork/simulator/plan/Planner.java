package io.ringwork.simulator.plan;

import com.google.common.hash.Hashing;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.AssignmentDelta;
import io.ringwork.ring.BalancedPlacement;
import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Placement;
import io.ringwork.ring.Strategy;
import io.ringwork.ring.ToozRing;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.Progress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/** Replays steps against a strategy and measures each one. */
final class Planner {

  /** Members beyond which a step lists only the members whose load changed. */
  static final int FULL_ROWS = 1000;

  /** The strategies {@code compare} runs: ours, then the two reference peers. */
  static final List<String> COMPARED =
      List.of("balanced", "rendezvous", "tooz", "jump", "ketama-160");

  private Planner() {}

  /** Returns {@code count} seeded synthetic keys, UUID strings. */
  /** The most sample keys a run may ask for: each is held in memory (about 100 bytes). */
  static final int MAX_SAMPLE_KEYS = 20_000_000;

  /**
   * Checks a {@code --sample-keys} count.
   *
   * @throws InputException naming the option, the bound and the value
   */
  static void checkSampleKeys(int count) {
    if (count < 1 || count > MAX_SAMPLE_KEYS) {
      throw new InputException(
          "--sample-keys must be between 1 and "
              + MAX_SAMPLE_KEYS
              + " (every key is held in memory), got "
              + count);
    }
  }

  static String[] sampleKeys(int count, long seed) {
    Random random = new Random(seed);
    String[] keys = new String[count];
    for (int i = 0; i < count; i++) {
      keys[i] = new UUID(random.nextLong(), random.nextLong()).toString();
    }
    return keys;
  }

  /**
   * Plans a partitioned strategy: partition-level figures, plus key-level ones when keys are given.
   * With a throttle, a step that does not converge at once is followed by sub-steps. The plan
   * starts from {@code start}, the assignment in force in a live group, or when null from the
   * placement of the setup's members.
   */
  static List<StepResult> partitioned(
      ClusterOptions.Setup setup,
      Assignment start,
      List<Scenario.Step> steps,
      Integer maxMoves,
      String[] keys,
      Progress progress) {
    PartitionPlacement placement = setup.partitionPlacement(maxMoves);
    BalancedPlacement quotas =
        (BalancedPlacement) Placement.newBuilder().partitions(setup.partitions()).build();
    // A live group's keys route by its own router, which its assignment carries.
    Partitioner partitioner = start != null ? start.partitioner() : placement.partitioner();
    int[] keysPerPartition = null;
    if (keys != null) {
      keysPerPartition = new int[setup.partitions()];
      for (String k : keys) {
        keysPerPartition[partitioner.partition(k)]++;
      }
    }
    // Sorted by id, as the placement wants them: saves it a sort per step.
    java.util.TreeMap<String, Member> members = new java.util.TreeMap<>();
    setup.members().forEach(m -> members.put(m.id(), m));
    Assignment current =
        start != null ? start : placement.assign(null, new ArrayList<>(members.values()));
    List<StepResult> results = new ArrayList<>();
    progress.start(steps.size());
    for (Scenario.Step step : steps) {
      for (Change c : step.changes()) {
        c.apply(members, step.where());
      }
      List<Member> list = new ArrayList<>(members.values());
      int sub = 0;
      while (true) {
        long t0 = System.nanoTime();
        // The step from the change (ring's StepToTest: the same table as assign).
        Assignment next = placement.stepTo(current, list);
        double millis = (System.nanoTime() - t0) / 1e6;
        String label = sub == 0 ? step.label() : step.label() + "." + sub;
        String change = sub == 0 ? step.describe() : "throttled step " + sub;
        results.add(measure(label, change, current, next, quotas, keysPerPartition, millis));
        current = next;
        // Only a throttled plan takes further steps; without a throttle, skip the quota check.
        if (maxMoves == null
            || !setup.strategy().equals("balanced")
            || converged(next, quotas.quotas(list))
            || sub > 100_000) {
          break;
        }
        sub++;
      }
      progress.step();
    }
    progress.done();
    return results;
  }

  private static boolean converged(Assignment a, Map<String, Integer> quotas) {
    for (Map.Entry<String, Integer> e : quotas.entrySet()) {
      if (a.primaryCount(e.getKey()) != e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static StepResult measure(
      String label,
      String change,
      Assignment before,
      Assignment after,
      BalancedPlacement quotaSource,
      int[] keysPerPartition,
      double millis) {
    List<Member> bm = before.members();
    List<Member> am = after.members();
    int[] map = indexMap(bm, am);
    // Reads only the parts of the tables that differ when one step computed after from before.
    int[] movedPartitions = AssignmentDelta.movedPartitions(before, after);
    long moved = movedPartitions.length;
    long keysMoved = 0;
    int partitions = after.partitions();
    if (keysPerPartition != null) {
      for (int p : movedPartitions) {
        keysMoved += keysPerPartition[p];
      }
    }
    int[] quota = quotaSource.quotaArray(am);
    long optimal = 0;
    for (int i = 0; i < bm.size(); i++) {
      int had = before.primaryCount(i);
      optimal += map[i] < 0 ? had : Math.max(0, had - quota[map[i]]);
    }
    long keysOptimal = -1;
    if (keysPerPartition == null) {
      keysMoved = -1;
    } else {
      keysOptimal = keyOptimum(before, after, keysPerPartition);
    }
    double weight = 0;
    for (Member m : after.members()) {
      weight += m.weight();
    }
    double peak = 0;
    double min = Double.MAX_VALUE;
    List<StepResult.Row> rows = new ArrayList<>();
    boolean full = am.size() <= FULL_ROWS && bm.size() <= FULL_ROWS;
    boolean[] stayed = new boolean[bm.size()];
    for (int i = 0; i < map.length; i++) {
      if (map[i] >= 0) {
        stayed[i] = true;
      }
    }
    int[] beforeIndex = new int[am.size()];
    java.util.Arrays.fill(beforeIndex, -1);
    for (int i = 0; i < map.length; i++) {
      if (map[i] >= 0) {
        beforeIndex[map[i]] = i;
      }
    }
    for (int j = 0; j < am.size(); j++) {
      Member m = am.get(j);
      double fair = partitions * m.weight() / weight;
      int count = after.primaryCount(j);
      peak = Math.max(peak, count / fair);
      min = Math.min(min, count / fair);
      int had = beforeIndex[j] < 0 ? 0 : before.primaryCount(beforeIndex[j]);
      if (full || had != count) {
        rows.add(new StepResult.Row(m.id(), had, count, quota[j]));
      }
    }
    for (int i = 0; i < bm.size(); i++) {
      if (!stayed[i]) {
        rows.add(new StepResult.Row(bm.get(i).id(), before.primaryCount(i), 0, 0));
      }
    }
    return new StepResult(
        label,
        change,
        after.members().size(),
        moved,
        optimal,
        keysMoved,
        keysOptimal,
        peak,
        min,
        zoneViolations(after),
        rows,
        !full,
        millis);
  }

  /**
   * Maps each index of {@code before} (sorted by id) to the index of the same id in {@code after}
   * (sorted by id), -1 for an id that left: one merge, no hashing.
   */
  static int[] indexMap(List<Member> before, List<Member> after) {
    int[] map = new int[before.size()];
    int j = 0;
    for (int i = 0; i < map.length; i++) {
      String id = before.get(i).id();
      int c = -1;
      while (j < after.size() && (c = after.get(j).id().compareTo(id)) < 0) {
        j++;
      }
      map[i] = j < after.size() && c == 0 ? j : -1;
    }
    return map;
  }

  private static long keyOptimum(Assignment before, Assignment after, int[] keysPerPartition) {
    long total = 0;
    for (int k : keysPerPartition) {
      total += k;
    }
    Map<String, Long> had = new HashMap<>();
    for (int p = 0; p < keysPerPartition.length; p++) {
      had.merge(before.primary(p).id(), (long) keysPerPartition[p], Long::sum);
    }
    return keyOptimum(had, after.members(), total);
  }

  /** Keys of departed members plus each staying member's keys above its exact share. */
  static long keyOptimum(Map<String, Long> before, List<Member> after, long totalKeys) {
    double weight = 0;
    Map<String, Double> w = new HashMap<>();
    for (Member m : after) {
      weight += m.weight();
      w.put(m.id(), m.weight());
    }
    double optimum = 0;
    for (Map.Entry<String, Long> e : before.entrySet()) {
      Double mw = w.get(e.getKey());
      optimum += mw == null ? e.getValue() : Math.max(0, e.getValue() - totalKeys * mw / weight);
    }
    return Math.round(optimum);
  }

  /** Partitions whose owners use fewer distinct zones than they could. */
  static long zoneViolations(Assignment a) {
    int stride = a.ownersPerPartition();
    if (stride < 2) {
      return 0;
    }
    Map<String, Integer> zoneIds = new HashMap<>();
    int[] zone = new int[a.members().size()];
    for (int i = 0; i < zone.length; i++) {
      zone[i] = zoneIds.computeIfAbsent(a.members().get(i).zone().orElse(""), z -> zoneIds.size());
    }
    int want = Math.min(stride, zoneIds.size());
    long violations = 0;
    int[] seen = new int[stride];
    for (int p = 0; p < a.partitions(); p++) {
      int distinct = 0;
      for (int r = 0; r < stride; r++) {
        int z = zone[a.ownerIndex(p, r)];
        boolean dup = false;
        for (int k = 0; k < distinct; k++) {
          dup |= seen[k] == z;
        }
        if (!dup) {
          seen[distinct++] = z;
        }
      }
      if (distinct < want) {
        violations++;
      }
    }
    return violations;
  }

  /** Maps keys to members for one member set; returns owner indices in a shared id registry. */
  interface KeyMapper {
    int[] owners(List<Member> members, String[] keys, Map<String, Integer> registry);
  }

  /** Returns the key mapper of a strategy compared by {@code compare}. */
  static KeyMapper mapper(String strategy, ClusterOptions.Setup setup, long[] nanos) {
    return switch (strategy) {
      case "balanced", "rendezvous" -> partitionMapper(strategy, setup, nanos);
      case "tooz" ->
          (members, keys, registry) -> {
            long t0 = System.nanoTime();
            ToozRing ring =
                ToozRing.of(
                    members,
                    setup.partitioned()
                        ? Placement.Builder.DEFAULT_TOOZ_POINTS
                        : setup.partitions(),
                    1);
            nanos[0] = System.nanoTime() - t0;
            int[] owners = new int[keys.length];
            for (int k = 0; k < keys.length; k++) {
              owners[k] = registry.get(ring.primary(keys[k]).id());
            }
            return owners;
          };
      case "jump" ->
          (members, keys, registry) -> {
            // Guava's jump consistent hash: buckets in join order; weights are not supported.
            long t0 = System.nanoTime();
            int[] bucketOwner = new int[members.size()];
            for (int i = 0; i < bucketOwner.length; i++) {
              bucketOwner[i] = registry.get(members.get(i).id());
            }
            nanos[0] = System.nanoTime() - t0;
            int[] owners = new int[keys.length];
            for (int k = 0; k < keys.length; k++) {
              owners[k] =
                  bucketOwner[Hashing.consistentHash(Partitioner.hash(keys[k]), members.size())];
            }
            return owners;
          };
      case "ketama-160" ->
          (members, keys, registry) -> {
            long t0 = System.nanoTime();
            KetamaRing ring = new KetamaRing(members, 160);
            nanos[0] = System.nanoTime() - t0;
            int[] owners = new int[keys.length];
            for (int k = 0; k < keys.length; k++) {
              owners[k] = registry.get(ring.owner(keys[k]));
            }
            return owners;
          };
      default -> throw new InputException("unknown strategy '" + strategy + "'");
    };
  }

  private static KeyMapper partitionMapper(
      String strategy, ClusterOptions.Setup setup, long[] nanos) {
    int partitions =
        setup.partitioned() ? setup.partitions() : Placement.Builder.DEFAULT_PARTITIONS;
    PartitionPlacement placement =
        Placement.newBuilder()
            .strategy(Strategy.parse(strategy))
            .partitions(partitions)
            .buildPartitioned();
    Assignment[] previous = new Assignment[1];
    int[][] partitionOf = new int[1][];
    return (members, keys, registry) -> {
      if (partitionOf[0] == null) {
        partitionOf[0] = new int[keys.length];
        for (int k = 0; k < keys.length; k++) {
          partitionOf[0][k] = placement.partitioner().partition(keys[k]);
        }
      }
      long t0 = System.nanoTime();
      Assignment a = placement.assign(previous[0], members);
      nanos[0] = System.nanoTime() - t0;
      previous[0] = a;
      int[] byIndex = new int[a.members().size()];
      for (int i = 0; i < byIndex.length; i++) {
        byIndex[i] = registry.get(a.members().get(i).id());
      }
      int[] owners = new int[keys.length];
      for (int k = 0; k < keys.length; k++) {
        owners[k] = byIndex[a.primaryIndex(partitionOf[0][k])];
      }
      return owners;
    };
  }

  /** Plans a strategy at key level: load is keys per member, movement is keys moved. */
  static List<StepResult> keyLevel(
      String strategy,
      ClusterOptions.Setup setup,
      List<Scenario.Step> steps,
      String[] keys,
      Progress progress) {
    long[] nanos = new long[1];
    KeyMapper mapper = mapper(strategy, setup, nanos);
    Map<String, Integer> registry = new HashMap<>();
    List<String> names = new ArrayList<>();
    LinkedHashMap<String, Member> members = new LinkedHashMap<>();
    setup.members().forEach(m -> members.put(m.id(), m));
    register(members.values(), registry, names);
    List<Member> list = new ArrayList<>(members.values());
    int[] owners;
    try {
      owners = mapper.owners(list, keys, registry);
    } catch (IllegalArgumentException e) {
      throw new InputException(strategy + ": " + e.getMessage());
    }
    List<StepResult> results = new ArrayList<>();
    progress.start(steps.size());
    for (Scenario.Step step : steps) {
      List<Member> beforeMembers = new ArrayList<>(members.values());
      for (Change c : step.changes()) {
        c.apply(members, step.where());
      }
      register(members.values(), registry, names);
      list = new ArrayList<>(members.values());
      int[] next;
      try {
        next = mapper.owners(list, keys, registry);
      } catch (IllegalArgumentException e) {
        throw new InputException(strategy + ": " + e.getMessage());
      }
      long[] before = new long[names.size()];
      long[] after = new long[names.size()];
      long moved = 0;
      for (int k = 0; k < keys.length; k++) {
        before[owners[k]]++;
        after[next[k]]++;
        if (owners[k] != next[k]) {
          moved++;
        }
      }
      Map<String, Long> had = new HashMap<>();
      for (Member m : beforeMembers) {
        had.put(m.id(), before[registry.get(m.id())]);
      }
      long optimal = keyOptimum(had, list, keys.length);
      double weight = list.stream().mapToDouble(Member::weight).sum();
      double peak = 0;
      double min = Double.MAX_VALUE;
      List<StepResult.Row> rows = new ArrayList<>();
      boolean full = list.size() <= FULL_ROWS;
      Set<String> seen = new HashSet<>();
      for (Member m : list) {
        double fair = keys.length * m.weight() / weight;
        long count = after[registry.get(m.id())];
        peak = Math.max(peak, count / fair);
        min = Math.min(min, count / fair);
        long b = before[registry.get(m.id())];
        seen.add(m.id());
        if (full || b != count) {
          rows.add(new StepResult.Row(m.id(), b, count, Math.round(fair)));
        }
      }
      for (Member m : beforeMembers) {
        if (!seen.contains(m.id())) {
          rows.add(new StepResult.Row(m.id(), before[registry.get(m.id())], 0, 0));
        }
      }
      results.add(
          new StepResult(
              step.label(),
              step.describe(),
              list.size(),
              moved,
              optimal,
              moved,
              optimal,
              peak,
              min,
              0,
              rows,
              !full,
              nanos[0] / 1e6));
      owners = next;
      progress.step();
    }
    progress.done();
    return results;
  }

  private static void register(
      Iterable<Member> members, Map<String, Integer> registry, List<String> names) {
    for (Member m : members) {
      if (!registry.containsKey(m.id())) {
        registry.put(m.id(), names.size());
        names.add(m.id());
      }
    }
  }
}
