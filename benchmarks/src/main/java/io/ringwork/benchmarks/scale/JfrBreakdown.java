package io.ringwork.benchmarks.scale;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Attributes the CPU samples of JFR recordings ({@code jdk.ExecutionSample}) to whose code spent
 * them, per phase of a scale run: each sample goes to the innermost frame that is not the JDK's own
 * (a {@code HashMap.get} called by Curator is Curator's time), and to {@link Owner#JDK} only when
 * every frame is the JDK's (selector loops, GC helpers, thread starts).
 */
public final class JfrBreakdown {

  /** Whose code a sample belongs to. */
  enum Owner {
    RINGWORK("Ringwork (protocol, placement)"),
    CURATOR("Curator"),
    ZOOKEEPER_CLIENT("ZooKeeper client"),
    ZOOKEEPER_SERVER("ZooKeeper server"),
    JSON("Jackson (JSON)"),
    METRICS("metrics, logging"),
    HARNESS("the harness"),
    JDK("JDK only (I/O loops, threads)"),
    OTHER("other");

    final String label;

    Owner(String label) {
      this.label = label;
    }
  }

  /** A named window of wall-clock time. */
  record Phase(String name, Instant start, Instant end) {
    boolean contains(Instant t) {
      return !t.isBefore(start) && t.isBefore(end);
    }
  }

  private final List<Phase> phases;
  private final Map<String, EnumMap<Owner, Long>> counts = new LinkedHashMap<>();
  private final Map<String, Map<String, Long>> ours = new LinkedHashMap<>();

  JfrBreakdown(List<Phase> phases) {
    this.phases = phases;
    for (Phase p : phases) {
      counts.put(p.name(), new EnumMap<>(Owner.class));
      ours.put(p.name(), new java.util.HashMap<>());
    }
  }

  /**
   * Prints the breakdown of every sample in the recordings given (files, or directories of {@code
   * .jfr} files), for a run whose phases were not recorded: {@code JfrBreakdown PATH...}.
   */
  public static void main(String[] args) throws IOException {
    JfrBreakdown all =
        new JfrBreakdown(List.of(new Phase("whole recording", Instant.MIN, Instant.MAX)));
    for (String arg : args) {
      Path p = Path.of(arg);
      if (java.nio.file.Files.isDirectory(p)) {
        try (var files = java.nio.file.Files.list(p)) {
          for (Path f : files.filter(x -> x.toString().endsWith(".jfr")).sorted().toList()) {
            all.add(f);
          }
        }
      } else {
        all.add(p);
      }
    }
    System.out.println(all.table());
    System.out.println(all.hottest(15));
  }

  /** Adds every execution sample of one recording that falls into a phase. */
  void add(Path recording) throws IOException {
    try (RecordingFile file = new RecordingFile(recording)) {
      while (file.hasMoreEvents()) {
        RecordedEvent e = file.readEvent();
        if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
          continue;
        }
        Instant t = e.getStartTime();
        for (Phase p : phases) {
          if (p.contains(t)) {
            Owner o = owner(e.getStackTrace());
            counts.get(p.name()).merge(o, 1L, Long::sum);
            if (o == Owner.RINGWORK || o == Owner.OTHER) {
              ours.get(p.name()).merge(o + " " + frame(e.getStackTrace()), 1L, Long::sum);
            }
          }
        }
      }
    }
  }

  /** The innermost frame outside the JDK, as {@code Class.method}. */
  static String frame(RecordedStackTrace stack) {
    for (RecordedFrame f : stack.getFrames()) {
      if (f.getMethod() == null || f.getMethod().getType() == null) {
        continue;
      }
      String c = f.getMethod().getType().getName();
      if (!jdk(c)) {
        return c.substring(c.lastIndexOf('.') + 1) + "." + f.getMethod().getName();
      }
    }
    return "?";
  }

  /** Per phase, the methods of Ringwork (and of unclassified code) with the most samples. */
  String hottest(int limit) {
    StringBuilder t = new StringBuilder();
    for (Map.Entry<String, Map<String, Long>> row : ours.entrySet()) {
      t.append("- ").append(row.getKey()).append(": ");
      List<Map.Entry<String, Long>> top =
          row.getValue().entrySet().stream()
              .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
              .limit(limit)
              .toList();
      for (Map.Entry<String, Long> e : top) {
        t.append(e.getKey().replace("RINGWORK ", "").replace("OTHER ", "(other) "))
            .append(' ')
            .append(e.getValue())
            .append(", ");
      }
      t.append('\n');
    }
    return t.toString();
  }

  private static boolean jdk(String c) {
    return c.startsWith("java.")
        || c.startsWith("javax.")
        || c.startsWith("jdk.")
        || c.startsWith("sun.")
        || c.startsWith("com.sun.");
  }

  static Owner owner(RecordedStackTrace stack) {
    if (stack == null) {
      return Owner.OTHER;
    }
    for (RecordedFrame f : stack.getFrames()) {
      if (f.getMethod() == null || f.getMethod().getType() == null) {
        continue;
      }
      String c = f.getMethod().getType().getName();
      if (jdk(c)) {
        continue;
      }
      if (c.startsWith("io.ringwork.benchmarks.")) {
        return Owner.HARNESS;
      }
      if (c.startsWith("io.ringwork.")) {
        return Owner.RINGWORK;
      }
      if (c.startsWith("org.apache.curator.")) {
        return Owner.CURATOR;
      }
      if (c.startsWith("org.apache.zookeeper.server.")) {
        return Owner.ZOOKEEPER_SERVER;
      }
      if (c.startsWith("org.apache.zookeeper.") || c.startsWith("org.apache.jute.")) {
        return Owner.ZOOKEEPER_CLIENT;
      }
      if (c.startsWith("com.fasterxml.")) {
        return Owner.JSON;
      }
      if (c.startsWith("com.codahale.")
          || c.startsWith("org.slf4j.")
          || c.startsWith("io.micrometer.")) {
        return Owner.METRICS;
      }
      return Owner.OTHER;
    }
    return Owner.JDK;
  }

  /** The samples of one phase, by owner. */
  Map<Owner, Long> phase(String name) {
    return counts.get(name);
  }

  /** One Markdown row per phase: samples, then each owner's share. */
  String table() {
    StringBuilder t = new StringBuilder("| phase | CPU samples |");
    List<Owner> owners = new ArrayList<>(List.of(Owner.values()));
    for (Owner o : owners) {
      t.append(' ').append(o.label).append(" |");
    }
    t.append("\n| --- | --- |").append(" --- |".repeat(owners.size())).append('\n');
    for (Map.Entry<String, EnumMap<Owner, Long>> row : counts.entrySet()) {
      long total = row.getValue().values().stream().mapToLong(Long::longValue).sum();
      t.append("| ").append(row.getKey()).append(" | ").append(total).append(" |");
      for (Owner o : owners) {
        long n = row.getValue().getOrDefault(o, 0L);
        t.append(total == 0 ? " - |" : String.format(Locale.ROOT, " %.1f%% |", 100.0 * n / total));
      }
      t.append('\n');
    }
    return t.toString();
  }
}
