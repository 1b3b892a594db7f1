package io.ringwork.simulator.plan;

import io.ringwork.ring.Member;
import io.ringwork.ring.PartitionPlacement;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Placement;
import io.ringwork.simulator.cli.InputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
      return !strategy.equals(Placement.TOOZ);
    }

    Placement placement(Integer maxMoves) {
      Placement.Builder b =
          Placement.newBuilder().strategy(strategy).partitions(partitions).replicas(replicas);
      if (maxMoves != null) {
        b.maxMovesPerStep(maxMoves);
      }
      return b.build();
    }

    /** The placement of a partitioned strategy (not tooz), typed. */
    PartitionPlacement partitionPlacement(Integer maxMoves) {
      Placement.Builder b =
          Placement.newBuilder().strategy(strategy).partitions(partitions).replicas(replicas);
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
    String s =
        strategy != null ? strategy : spec.strategy != null ? spec.strategy : Placement.BALANCED;
    s = s.trim().toLowerCase(Locale.ROOT);
    if (!Placement.NAMES.contains(s)) {
      throw new InputException(
          "unknown strategy '" + s + "', expected one of " + Placement.NAMES + where("strategy"));
    }
    int p;
    if (partitions != null) {
      p = partitions;
    } else if (spec.partitions != null) {
      p = spec.partitions;
    } else {
      p = s.equals(Placement.TOOZ) ? 32 : 4096;
    }
    if (s.equals(Placement.TOOZ)) {
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
