package io.ringwork.simulator.plan;

import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Placement;
import io.ringwork.ring.Strategy;
import io.ringwork.simulator.cli.InputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options that describe a cluster: a file, members, and settings that override it. */
final class ClusterOptions {

  @Option(
      names = "--cluster",
      paramLabel = "FILE",
      description = "Cluster file (YAML or JSON): strategy, partitions, replicas, members.")
  Path cluster;

  @Option(
      names = "--member",
      paramLabel = "ID[=WEIGHT][@ZONE]",
      description = "A member; repeatable. Adds to the cluster file's members.")
  List<String> members = new ArrayList<>();

  @Option(
      names = "--strategy",
      paramLabel = "NAME",
      description = "balanced, rendezvous or tooz (default: the file's, else balanced).")
  String strategy;

  @Option(
      names = "--partitions",
      paramLabel = "N",
      description =
          "P, a power of two (default 4096); for tooz, points per node (default 32, tooz's"
              + " partitions).")
  Integer partitions;

  @Option(names = "--replicas", paramLabel = "R", description = "Owners per key (default 1).")
  Integer replicas;

  /** The resolved settings and members. */
  record Setup(String strategy, int partitions, int replicas, List<Member> members) {
    boolean partitioned() {
      return Strategy.parse(strategy).partitioned();
    }

    Placement placement(Integer maxMoves) {
      Placement.Builder b =
          Placement.newBuilder()
              .strategy(Strategy.parse(strategy))
              .partitions(partitions)
              .replicas(replicas);
      if (maxMoves != null) {
        b.maxMovesPerStep(maxMoves);
      }
      return b.build();
    }

    /** The placement of a partitioned strategy (not tooz), typed. */
    PartitionPlacement partitionPlacement(Integer maxMoves) {
      Placement.Builder b =
          Placement.newBuilder()
              .strategy(Strategy.parse(strategy))
              .partitions(partitions)
              .replicas(replicas);
      if (maxMoves != null) {
        b.maxMovesPerStep(maxMoves);
      }
      return b.buildPartitioned();
    }
  }

  Setup resolve() {
    return resolve(null);
  }

  /** Resolves the cluster; {@code preset} (may be null) stands in for a file. */
  Setup resolve(ClusterSpec preset) {
    ClusterSpec spec =
        preset != null ? preset : cluster != null ? ClusterSpec.read(cluster) : new ClusterSpec();
    spec.addMembers(members);
    Strategy chosen;
    try {
      chosen =
          strategy != null
              ? Strategy.parse(strategy)
              : spec.strategy != null ? Strategy.parse(spec.strategy) : Strategy.BALANCED;
    } catch (IllegalArgumentException e) {
      throw new InputException(e.getMessage() + where("strategy"));
    }
    String s = chosen.configName();
    int p;
    if (partitions != null) {
      p = partitions;
    } else if (spec.partitions != null) {
      p = spec.partitions;
    } else {
      p = chosen.defaultPartitions();
    }
    if (!chosen.partitioned()) {
      if (p < 1) {
        throw new InputException(
            "partitions (points per node) must be at least 1, got " + p + where("partitions"));
      }
    } else {
      try {
        Partitioner.checkPartitions(p);
      } catch (IllegalArgumentException e) {
        throw new InputException(e.getMessage() + where("partitions"));
      }
    }
    int r = replicas != null ? replicas : spec.replicas != null ? spec.replicas : 1;
    if (r < 1) {
      throw new InputException("replicas must be at least 1, got " + r + where("replicas"));
    }
    return new Setup(s, p, r, spec.memberList());
  }

  private String where(String field) {
    boolean fromOption =
        switch (field) {
          case "strategy" -> strategy != null;
          case "partitions" -> partitions != null;
          default -> replicas != null;
        };
    if (fromOption) {
      return " (--" + field + ")";
    }
    return cluster == null ? "" : " (" + field + " in " + cluster + ")";
  }
}
