package io.ringwork.simulator.plan;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.ringwork.ring.Member;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.Reports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A cluster: group settings and members, from a YAML or JSON file and {@code --member} options.
 *
 * <pre>
 * strategy: balanced        # balanced | rendezvous | tooz
 * partitions: 4096          # P, or points per node for tooz
 * replicas: 2
 * members:
 *   - id: conductor-1
 *     weight: 2
 *     zone: zone-a
 *     labels: [hw=ipmi]
 * </pre>
 *
 * <p>Unknown fields, bad values and duplicate ids are errors that name the file and line. The
 * output of {@code ringwork members --format json} is a cluster file too: its {@code "format"}
 * field (first) admits the report's own fields, which are ignored, and its draining members, which
 * are leaving, are left out.
 */
final class ClusterSpec {

  private static final Set<String> TOP_FIELDS =
      Set.of("strategy", "partitions", "replicas", "members");
  private static final Set<String> MEMBER_FIELDS = Set.of("id", "weight", "zone", "labels");
  private static final Set<String> REPORT_MEMBER_FIELDS =
      Set.of("draining", "incarnation", "since", "partitions", "role");

  /** Whether the file is a {@code members --format json} report. */
  private boolean membersReport;

  String strategy;
  Integer partitions;
  Integer replicas;
  final Map<String, Member> members = new LinkedHashMap<>();

  /** Reads a cluster file, YAML or JSON (JSON is YAML). */
  static ClusterSpec read(Path file) {
    ClusterSpec spec = new ClusterSpec();
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new InputException(file + ": no such file");
    } catch (IOException e) {
      throw new InputException(file + ": cannot read: " + e.getMessage());
    }
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    try (JsonParser parser = yaml.getFactory().createParser(text)) {
      parser.setCodec(yaml);
      if (parser.nextToken() == null) {
        throw new InputException(file + ": the cluster file is empty");
      }
      JsonLocation start = parser.currentTokenLocation();
      if (!parser.isExpectedStartObjectToken()) {
        throw new InputException(at(file, start) + "expected a mapping of settings and members");
      }
      while (parser.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonLocation where = parser.currentTokenLocation();
        parser.nextToken();
        switch (field) {
          case "strategy" -> spec.strategy = text(parser, file, field);
          case "partitions" -> spec.partitions = integer(parser, file, field);
          case "replicas" -> spec.replicas = integer(parser, file, field);
          case "members" -> readMembers(parser, file, spec);
          case "format" -> {
            if (parser.getValueAsInt(-1) != Reports.FORMAT) {
              throw new InputException(
                  at(file, where)
                      + "format must be "
                      + Reports.FORMAT
                      + " ('ringwork members --format json'), got "
                      + parser.getText());
            }
            spec.membersReport = true;
          }
          case "group", "leader", "assignmentVersion", "pause", "reservations", "drainRequests" -> {
            if (!spec.membersReport) {
              throw new InputException(
                  at(file, where)
                      + "unknown field '"
                      + field
                      + "', expected one of "
                      + new TreeSet<>(TOP_FIELDS)
                      + " (or a 'ringwork members --format json' report, which starts with"
                      + " \"format\")");
            }
            parser.skipChildren();
          }
          default ->
              throw new InputException(
                  at(file, where)
                      + "unknown field '"
                      + field
                      + "', expected one of "
                      + new TreeSet<>(TOP_FIELDS));
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
    return spec;
  }

  private static void readMembers(JsonParser parser, Path file, ClusterSpec spec)
      throws IOException {
    if (!parser.isExpectedStartArrayToken()) {
      throw new InputException(at(file, parser.currentTokenLocation()) + "members must be a list");
    }
    while (parser.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
      JsonLocation where = parser.currentTokenLocation();
      JsonNode node = parser.readValueAsTree();
      if (node == null || !node.isObject()) {
        throw new InputException(at(file, where) + "a member must be a mapping with an id");
      }
      Iterator<String> names = node.fieldNames();
      while (names.hasNext()) {
        String name = names.next();
        if (!MEMBER_FIELDS.contains(name)
            && !(spec.membersReport && REPORT_MEMBER_FIELDS.contains(name))) {
          throw new InputException(
              at(file, where)
                  + "unknown member field '"
                  + name
                  + "', expected one of "
                  + new TreeSet<>(MEMBER_FIELDS));
        }
      }
      if (!node.hasNonNull("id")) {
        throw new InputException(at(file, where) + "member has no id");
      }
      String id = node.get("id").asText();
      if (spec.membersReport
          && (node.path("draining").asBoolean(false)
              || node.path("role").asText("worker").equals("observer"))) {
        continue; // leaving the group, or never given work: not part of the cluster to plan
      }
      double weight = 1.0;
      if (node.has("weight")) {
        if (!node.get("weight").isNumber()) {
          throw new InputException(
              at(file, where)
                  + "weight of member '"
                  + id
                  + "' must be a number, got "
                  + node.get("weight"));
        }
        weight = node.get("weight").asDouble();
      }
      String zone = node.hasNonNull("zone") ? node.get("zone").asText() : null;
      TreeSet<String> labels = new TreeSet<>();
      if (node.has("labels")) {
        node.get("labels").forEach(l -> labels.add(l.asText()));
      }
      Member m;
      try {
        m = new Member(id, weight, Optional.ofNullable(zone), labels);
      } catch (IllegalArgumentException e) {
        throw new InputException(at(file, where) + e.getMessage());
      }
      if (spec.members.put(id, m) != null) {
        throw new InputException(at(file, where) + "duplicate member id '" + id + "'");
      }
    }
  }

  private static String text(JsonParser p, Path file, String field) throws IOException {
    if (!p.currentToken().isScalarValue()) {
      throw new InputException(at(file, p.currentTokenLocation()) + field + " must be a value");
    }
    return p.getText();
  }

  private static Integer integer(JsonParser p, Path file, String field) throws IOException {
    if (p.currentToken() != com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT) {
      throw new InputException(
          at(file, p.currentTokenLocation())
              + field
              + " must be a whole number, got '"
              + p.getText()
              + "'");
    }
    return p.getIntValue();
  }

  static String at(Path file, JsonLocation l) {
    return file + ":" + l.getLineNr() + ": ";
  }

  /**
   * Parses {@code ID[=WEIGHT][@ZONE]}.
   *
   * @throws InputException naming the option and value when it is malformed
   */
  static Member parseMember(String option, String spec) {
    String rest = spec;
    String zone = null;
    int at = rest.indexOf('@');
    if (at >= 0) {
      zone = rest.substring(at + 1);
      rest = rest.substring(0, at);
    }
    double weight = 1.0;
    int eq = rest.indexOf('=');
    if (eq >= 0) {
      String w = rest.substring(eq + 1);
      try {
        weight = Double.parseDouble(w);
      } catch (NumberFormatException e) {
        throw new InputException(option + " " + spec + ": weight '" + w + "' is not a number");
      }
      rest = rest.substring(0, eq);
    }
    try {
      return Member.of(rest, weight, zone);
    } catch (IllegalArgumentException e) {
      throw new InputException(option + " " + spec + ": " + e.getMessage());
    }
  }

  /** Adds {@code --member} options; a repeated id is an error. */
  void addMembers(List<String> specs) {
    for (String s : specs) {
      Member m = parseMember("--member", s);
      if (members.put(m.id(), m) != null) {
        throw new InputException("--member " + s + ": duplicate member id '" + m.id() + "'");
      }
    }
  }

  List<Member> memberList() {
    if (members.isEmpty()) {
      throw new InputException(
          "the cluster is empty: give members in a cluster file (--cluster) or with --member");
    }
    return new ArrayList<>(members.values());
  }
}
