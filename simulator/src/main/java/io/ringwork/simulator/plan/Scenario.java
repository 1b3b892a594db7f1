package io.ringwork.simulator.plan;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.ringwork.ring.Member;
import io.ringwork.ring.Placement;
import io.ringwork.simulator.cli.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Ordered steps of changes; each step's changes happen at once. */
final class Scenario {

  /** A step: a label and the changes made together. */
  record Step(String label, List<Change> changes, String where) {
    String describe() {
      StringBuilder sb = new StringBuilder();
      for (Change c : changes) {
        if (sb.length() > 0) {
          sb.append(", ");
        }
        sb.append(c);
      }
      return sb.toString();
    }
  }

  private Scenario() {}

  /**
   * Reads a scenario file: {@code steps:} then a list of mappings of change kind to a value or a
   * list of values, for example {@code - add: [c13=2@zone-b, c14]}.
   */
  static List<Step> read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new InputException(file + ": no such file");
    } catch (IOException e) {
      throw new InputException(file + ": cannot read: " + e.getMessage());
    }
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    List<Step> steps = new ArrayList<>();
    try (JsonParser p = yaml.getFactory().createParser(text)) {
      p.setCodec(yaml);
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new InputException(file + ":1: expected 'steps:' with a list of steps");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonLocation where = p.currentTokenLocation();
        if (!field.equals("steps")) {
          throw new InputException(
              ClusterSpec.at(file, where) + "unknown field '" + field + "', expected 'steps'");
        }
        if (p.nextToken() != JsonToken.START_ARRAY) {
          throw new InputException(ClusterSpec.at(file, where) + "steps must be a list");
        }
        while (p.nextToken() != JsonToken.END_ARRAY) {
          JsonLocation at = p.currentTokenLocation();
          JsonNode node = p.readValueAsTree();
          String loc = file + ":" + at.getLineNr();
          if (node == null || !node.isObject() || node.isEmpty()) {
            throw new InputException(
                loc + ": a step must map change kinds to values, e.g. 'add: [c14]'");
          }
          List<Change> changes = new ArrayList<>();
          Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
          while (fields.hasNext()) {
            Map.Entry<String, JsonNode> e = fields.next();
            if (!Change.KINDS.contains(e.getKey())) {
              throw new InputException(
                  loc + ": unknown change '" + e.getKey() + "', expected one of " + Change.KINDS);
            }
            if (e.getValue().isArray()) {
              e.getValue().forEach(v -> changes.add(new Change(e.getKey(), v.asText())));
            } else {
              changes.add(new Change(e.getKey(), e.getValue().asText()));
            }
          }
          steps.add(new Step(Integer.toString(steps.size() + 1), changes, loc));
        }
      }
    } catch (JsonProcessingException e) {
      JsonLocation l = e.getLocation();
      throw new InputException(
          file
              + (l == null ? "" : ":" + l.getLineNr())
              + ": malformed YAML/JSON: "
              + e.getOriginalMessage());
    } catch (IOException e) {
      throw new InputException(file + ": cannot read: " + e.getMessage());
    }
    if (steps.isEmpty()) {
      throw new InputException(file + ": the scenario has no steps");
    }
    return steps;
  }

  /** Returns {@code count} random joins and leaves, seeded; the cluster never empties. */
  static List<Step> random(List<Member> initial, int count, long seed) {
    Random random = new Random(seed);
    List<String> live = new ArrayList<>();
    List<String> zones = new ArrayList<>();
    for (Member m : initial) {
      live.add(m.id());
      m.zone().filter(z -> !zones.contains(z)).ifPresent(zones::add);
    }
    List<Step> steps = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Change c;
      if (live.size() > 1 && random.nextBoolean()) {
        int victim = random.nextInt(live.size());
        String id = live.get(victim);
        live.set(victim, live.get(live.size() - 1));
        live.remove(live.size() - 1);
        c = new Change("remove", id);
      } else {
        String id = "random-" + i;
        live.add(id);
        String zone = zones.isEmpty() ? "" : "@" + zones.get(random.nextInt(zones.size()));
        c = new Change("add", id + zone);
      }
      steps.add(
          new Step(Integer.toString(i + 1), List.of(c), "--random-events (event " + (i + 1) + ")"));
    }
    return steps;
  }

  /**
   * The built-in example: 12 conductors in 3 zones, mixed weights; add 2, remove 1, lose a zone.
   */
  static ClusterSpec exampleCluster() {
    ClusterSpec spec = new ClusterSpec();
    spec.strategy = "balanced";
    spec.partitions = Placement.Builder.DEFAULT_PARTITIONS;
    spec.replicas = 2;
    for (int i = 1; i <= 12; i++) {
      String zone = "zone-" + (char) ('a' + (i - 1) % 3);
      double weight = i <= 4 ? 3 : i <= 8 ? 2 : 1;
      Member m = Member.of("conductor-" + i, weight, zone);
      spec.members.put(m.id(), m);
    }
    return spec;
  }

  static List<Step> exampleSteps() {
    return List.of(
        new Step(
            "1",
            List.of(
                new Change("add", "conductor-13=2@zone-a"),
                new Change("add", "conductor-14@zone-b")),
            "example"),
        new Step("2", List.of(new Change("remove", "conductor-5")), "example"),
        new Step("3", List.of(new Change("fail-zone", "zone-c")), "example"));
  }
}
