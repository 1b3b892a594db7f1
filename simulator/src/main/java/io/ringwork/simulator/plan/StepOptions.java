package io.ringwork.simulator.plan;

import io.ringwork.simulator.cli.Charts;
import io.ringwork.simulator.cli.InputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The changes to plan, in the order given, and where keys come from. */
final class StepOptions {

  final List<Change> changes = new ArrayList<>();

  /** How many changes each CLI step has, in order: 1, but for {@code --add a,b}. */
  private final List<Integer> stepSizes = new ArrayList<>();

  @Option(
      names = "--add",
      paramLabel = "ID[=W][@Z][,ID...]",
      description =
          "Add a member, one step each; --add a,b adds several in one step (a burst of joins"
              + " the rebalancer's settle delay folds into one rebalance).")
  void add(String spec) {
    String[] each = spec.split(",", -1);
    for (String one : each) {
      if (one.isBlank()) {
        throw new InputException("--add " + spec + ": an empty member between commas");
      }
      changes.add(new Change("add", one.strip()));
    }
    stepSizes.add(each.length);
  }

  @Option(names = "--remove", paramLabel = "ID", description = "Remove a member.")
  void remove(String id) {
    changes.add(new Change("remove", id));
    stepSizes.add(1);
  }

  @Option(names = "--set-weight", paramLabel = "ID=W", description = "Change a member's weight.")
  void setWeight(String spec) {
    changes.add(new Change("set-weight", spec));
    stepSizes.add(1);
  }

  @Option(
      names = "--fail-zone",
      paramLabel = "ZONE",
      description = "Remove every member of a zone.")
  void failZone(String zone) {
    changes.add(new Change("fail-zone", zone));
    stepSizes.add(1);
  }

  @Option(
      names = "--scenario",
      paramLabel = "FILE",
      description = "Ordered steps from a YAML/JSON file.")
  Path scenario;

  /** The most random events a run may replay: each step's results are kept for the report. */
  static final int MAX_RANDOM_EVENTS = 1_000_000;

  @Option(names = "--random-events", paramLabel = "N", description = "N random joins and leaves.")
  Integer randomEvents;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "Seed of random events and sample keys (default 42).")
  long seed = 42;

  @Option(
      names = "--keys",
      paramLabel = "FILE",
      description = "Keys, one per line, to count moved keys exactly.")
  Path keys;

  @Option(names = "--format", paramLabel = "FORMAT", description = "table (default), json or csv.")
  String format = "table";

  @Option(names = "--chart", paramLabel = "FILE", description = "Write a chart, .png or .svg.")
  Path chart;

  @Option(
      names = "--progress",
      description = "Show progress on stderr even when it is not a terminal.")
  boolean progress;

  /**
   * Builds the steps: the CLI changes (one step each, {@code --add a,b} one step), a scenario file,
   * or random events.
   */
  List<Scenario.Step> steps(List<io.ringwork.ring.Member> initial) {
    int sources =
        (changes.isEmpty() ? 0 : 1) + (scenario == null ? 0 : 1) + (randomEvents == null ? 0 : 1);
    if (sources > 1) {
      throw new InputException(
          "give changes as options, --scenario or --random-events, not several");
    }
    if (scenario != null) {
      return Scenario.read(scenario);
    }
    if (randomEvents != null) {
      if (randomEvents < 1 || randomEvents > MAX_RANDOM_EVENTS) {
        throw new InputException(
            "--random-events must be between 1 and " + MAX_RANDOM_EVENTS + ", got " + randomEvents);
      }
      return Scenario.random(initial, randomEvents, seed);
    }
    List<Scenario.Step> steps = new ArrayList<>();
    int next = 0;
    for (int size : stepSizes) {
      List<Change> step = List.copyOf(changes.subList(next, next + size));
      next += size;
      StringBuilder source = new StringBuilder("--" + step.get(0).kind() + " ");
      for (int i = 0; i < step.size(); i++) {
        source.append(i == 0 ? "" : ",").append(step.get(i).arg());
      }
      steps.add(new Scenario.Step(Integer.toString(steps.size() + 1), step, source.toString()));
    }
    if (steps.isEmpty()) {
      throw new InputException(
          "no changes: give --add, --remove, --set-weight, --fail-zone, --scenario or --random-events");
    }
    return steps;
  }

  void checkFormat() {
    if (!List.of("table", "json", "csv").contains(format)) {
      throw new InputException("--format must be table, json or csv, got '" + format + "'");
    }
    if (chart != null) {
      Charts.checkPath(chart);
    }
  }

  /** Reads keys from {@link #keys}, or returns null when none were given. */
  String[] readKeys() {
    if (keys == null) {
      return null;
    }
    try (var lines = Files.lines(keys)) {
      String[] result = lines.toArray(String[]::new);
      if (result.length == 0) {
        throw new InputException(keys + ": the keys file is empty");
      }
      return result;
    } catch (java.nio.file.NoSuchFileException e) {
      throw new InputException(keys + ": no such file");
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      throw new InputException(keys + ": cannot read keys: " + e.getMessage());
    }
  }
}
