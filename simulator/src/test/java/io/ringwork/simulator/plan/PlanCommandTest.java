package io.ringwork.simulator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class PlanCommandTest {

  @TempDir Path dir;

  private Path file(String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name), text);
  }

  @Test
  void example_movesExactlyTheOptimumEveryStep() throws Exception {
    Cli.Result r = Cli.run("plan", "--example", "--format", "json");
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertThat(root.get("steps")).hasSize(3);
    for (JsonNode step : root.get("steps")) {
      assertThat(step.get("moved").asLong())
          .isEqualTo(step.get("optimalMoved").asLong())
          .isPositive();
      assertThat(step.get("peakToAverage").asDouble()).isBetween(1.0, 1.01);
      assertThat(step.get("minToAverage").asDouble()).isBetween(0.99, 1.0);
      assertThat(step.get("zoneViolations").asLong()).isZero();
      assertThat(step.has("computeMillis")).isTrue();
      for (JsonNode m : step.get("members")) {
        assertThat(m.has("id") && m.has("before") && m.has("after") && m.has("quota")).isTrue();
        if (m.get("quota").asLong() > 0) {
          assertThat(m.get("after").asLong()).isEqualTo(m.get("quota").asLong());
        }
      }
    }
    assertThat(root.get("steps").get(2).get("change").asText()).isEqualTo("fail-zone zone-c");
  }

  @Test
  void tableAndCsv_andKeysMovedExactly() throws Exception {
    Path cluster =
        file("c.yaml", "partitions: 256\nmembers:\n  - {id: a, zone: z1}\n  - {id: b, zone: z2}\n");
    Path keys =
        file(
            "keys.txt",
            String.join(
                "\n", java.util.stream.IntStream.range(0, 5000).mapToObj(i -> "k" + i).toList()));
    Cli.Result table =
        Cli.run(
            "plan", "--cluster", cluster.toString(), "--add", "c@z1", "--keys", keys.toString());
    assertThat(table.status()).as(table.err()).isZero();
    assertThat(table.out()).contains("step 1: add c@z1 -> 3 members").contains("keys moved");
    Cli.Result csv =
        Cli.run(
            "plan",
            "--cluster",
            cluster.toString(),
            "--add",
            "c@z1",
            "--keys",
            keys.toString(),
            "--format",
            "csv");
    String[] lines = csv.out().split("\n");
    assertThat(lines[0]).startsWith("step,change,memberCount,moved,optimalMoved,keysMoved");
    String[] row = lines[1].split(",");
    assertThat(Long.parseLong(row[5])).isBetween(1000L, 2400L); // about a third of 5000 keys
  }

  @Test
  void maxMoves_showsThrottledConvergence() throws Exception {
    Cli.Result r =
        Cli.run(
            "plan",
            "--member",
            "a",
            "--member",
            "b",
            "--partitions",
            "1024",
            "--add",
            "c",
            "--max-moves",
            "100",
            "--format",
            "csv");
    assertThat(r.status()).as(r.err()).isZero();
    // c's quota is 341: 4 throttled steps of at most 100 moves each.
    assertThat(r.out().lines().skip(1).toList()).hasSize(4);
    assertThat(r.out()).contains("1.3,throttled step 3");
  }

  @Test
  void scenarioFile_andRandomEvents() throws Exception {
    Path scenario =
        file("s.yaml", "steps:\n  - add: [c, d=2]\n  - remove: a\n  - set-weight: b=3\n");
    Cli.Result r =
        Cli.run(
            "plan",
            "--member",
            "a",
            "--member",
            "b",
            "--scenario",
            scenario.toString(),
            "--format",
            "csv");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out().lines().skip(1).toList()).hasSize(3);
    Cli.Result random =
        Cli.run(
            "plan",
            "--member",
            "a",
            "--member",
            "b",
            "--random-events",
            "50",
            "--seed",
            "3",
            "--format",
            "csv",
            "--progress");
    assertThat(random.status()).isZero();
    assertThat(random.out().lines().skip(1).toList()).hasSize(50);
    assertThat(random.err()).contains("50/50 steps");
  }

  @Test
  void tooz_plannedOverKeys() {
    Cli.Result r =
        Cli.run(
            "plan",
            "--strategy",
            "tooz",
            "--member",
            "foo",
            "--member",
            "bar",
            "--add",
            "baz",
            "--sample-keys",
            "3000",
            "--format",
            "json");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("\"unit\" : \"keys\"");
  }

  @Test
  void charts_pngAndSvg() throws Exception {
    Path png = dir.resolve("plan.png");
    Path svg = dir.resolve("plan.svg");
    assertThat(Cli.run("plan", "--example", "--chart", png.toString()).status()).isZero();
    assertThat(
            Cli.run("compare", "--example", "--sample-keys", "2000", "--chart", svg.toString())
                .status())
        .isZero();
    byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
    assertThat(head).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    assertThat(Files.readString(svg)).contains("<svg").contains("<path");
    assertThat(Files.size(svg)).isGreaterThan(10_000);
  }

  @Test
  void badInput_eachExits2NamingTheLocation() throws Exception {
    assertBad(file("m.yaml", "members: [ {id: a\n"), "m.yaml:", "malformed");
    assertBad(
        file("u.yaml", "partitions: 64\ncolour: red\nmembers: [{id: a}]\n"),
        "u.yaml:2:",
        "unknown field 'colour'");
    assertBad(
        file("um.yaml", "members:\n  - id: a\n    wieght: 2\n"),
        "um.yaml:2:",
        "unknown member field 'wieght'");
    assertBad(
        file("d.yaml", "members:\n  - id: a\n  - id: b\n  - id: a\n"),
        "d.yaml:4:",
        "duplicate member id 'a'");
    assertBad(
        file("w.yaml", "members:\n  - id: a\n  - id: b\n    weight: 0\n"),
        "w.yaml:3:",
        "weight must be positive");
    assertBad(file("p.yaml", "partitions: 1000\nmembers: [{id: a}]\n"), "p.yaml", "power of two");
    assertBad(
        file("r.yaml", "replicas: 0\nmembers: [{id: a}]\n"),
        "r.yaml",
        "replicas must be at least 1");
    assertBad(file("e.yaml", "partitions: 64\n"), "", "the cluster is empty");
    Path ok = file("ok.yaml", "members: [{id: a}, {id: b}]\n");
    Cli.Result r = Cli.run("plan", "--cluster", ok.toString(), "--remove", "zz");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--remove zz").contains("no member 'zz'");
    r = Cli.run("plan", "--cluster", ok.toString(), "--remove", "a", "--remove", "b");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("leaves the cluster empty");
    r = Cli.run("plan", "--cluster", dir.resolve("missing.yaml").toString(), "--add", "x");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("missing.yaml: no such file");
    r = Cli.run("plan", "--cluster", ok.toString(), "--add", "c", "--chart", "x.gif");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains(".png or .svg");
  }

  private void assertBad(Path cluster, String where, String what) {
    Cli.Result r = Cli.run("plan", "--cluster", cluster.toString(), "--add", "new");
    assertThat(r.status()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains(where).contains(what);
  }

  /** Issue 13, item 10: inputs that cannot fit or cannot be written exit 2 before any work. */
  @Test
  void boundedInputs_exit2WithAMessage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    Cli.Result r = Cli.run("plan", "--member", "a=1e308", "--member", "b", "--add", "c");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("weight").contains("at most 1.0E12");
    r =
        Cli.run(
            "compare",
            "--member",
            "a",
            "--member",
            "b",
            "--add",
            "c",
            "--sample-keys",
            "2000000000");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--sample-keys must be between 1 and 20000000");
    r = Cli.run("plan", "--member", "a", "--random-events", "2000000000", "--seed", "1");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--random-events must be between 1 and 1000000");
    java.nio.file.Path missing = dir.resolve("no-such-dir").resolve("plan.png");
    r =
        Cli.run(
            "plan", "--member", "a", "--member", "b", "--add", "c", "--chart", missing.toString());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("does not exist");
    assertThat(dir.resolve("no-such-dir")).doesNotExist();
  }

  /** Issue 13, item 11: a format version, and one set of names in JSON and CSV. */
  @Test
  void machineOutputs_versionedAndNamedAlikeInJsonAndCsv() throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    for (String command : new String[] {"plan", "compare"}) {
      String[] base = {
        command, "--member", "a", "--member", "b=2", "--add", "c", "--sample-keys", "2000"
      };
      Cli.Result j = Cli.run(concat(base, "--format", "json"));
      Cli.Result c = Cli.run(concat(base, "--format", "csv"));
      assertThat(j.status()).as(j.err()).isZero();
      assertThat(c.status()).as(c.err()).isZero();
      com.fasterxml.jackson.databind.JsonNode root = json.readTree(j.out());
      assertThat(root.path("format").asInt()).as(command).isEqualTo(1);
      com.fasterxml.jackson.databind.JsonNode step =
          command.equals("plan")
              ? root.get("steps").get(0)
              : root.get("strategies").get("balanced").get(0);
      assertThat(step.get("moved").isNumber()).isTrue();
      assertThat(step.get("peakToAverage").isNumber()).isTrue();
      String header = c.out().lines().findFirst().orElseThrow();
      for (String column : header.split(",")) {
        if (!column.equals("strategy")) {
          assertThat(step.has(column))
              .as("%s CSV column %s is a JSON field", command, column)
              .isTrue();
        }
      }
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  @Test
  void addCommaList_isOneStep_movingNoMoreThanTwoSteps() throws Exception {
    String[] base = {"plan", "--member", "a", "--member", "b", "--member", "c", "--format", "json"};
    Cli.Result burst = Cli.run(concat(base, "--add", "d,e"));
    assertThat(burst.status()).as(burst.err()).isZero();
    JsonNode one = new ObjectMapper().readTree(burst.out()).get("steps");
    assertThat(one).hasSize(1);
    assertThat(one.get(0).get("change").asText()).isEqualTo("add d, add e");
    assertThat(one.get(0).get("memberCount").asInt()).isEqualTo(5);
    Cli.Result apart = Cli.run(concat(base, "--add", "d", "--add", "e"));
    JsonNode two = new ObjectMapper().readTree(apart.out()).get("steps");
    assertThat(two).hasSize(2);
    assertThat(one.get(0).get("moved").asLong())
        .isLessThanOrEqualTo(two.get(0).get("moved").asLong() + two.get(1).get("moved").asLong());
    Cli.Result empty = Cli.run(concat(base, "--add", "d,,e"));
    assertThat(empty.status()).isEqualTo(2);
    assertThat(empty.err()).contains("--add d,,e: an empty member between commas");
  }

  @Test
  void membersReport_isAClusterFile_withoutDrainingMembersAndObservers(@TempDir Path dir)
      throws Exception {
    Path report = dir.resolve("members.json");
    Files.writeString(
        report,
        """
        {
          "format" : 1,
          "group" : "demo",
          "leader" : "w1",
          "assignmentVersion" : 4,
          "members" : [
            {"id":"w1","weight":1.0,"labels":[],"role":"worker","draining":false,
             "incarnation":10,"since":1796309546222,"partitions":2048},
            {"id":"w2","weight":1.0,"zone":"b","labels":[],"role":"worker","draining":false,
             "incarnation":11,"since":1796309546222,"partitions":2048},
            {"id":"w3","weight":1.0,"labels":[],"role":"worker","draining":true,
             "incarnation":12,"since":1796309546222,"partitions":0},
            {"id":"o1","weight":1.0,"labels":[],"role":"observer","draining":false,
             "incarnation":13,"since":1796309546222,"partitions":0}
          ]
        }
        """);
    Cli.Result r =
        Cli.run("plan", "--cluster", report.toString(), "--add", "w4", "--format", "json");
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode step = new ObjectMapper().readTree(r.out()).get("steps").get(0);
    assertThat(step.get("memberCount").asInt()).isEqualTo(3);
    List<String> ids = new ArrayList<>();
    step.get("members").forEach(m -> ids.add(m.get("id").asText()));
    assertThat(ids).containsExactlyInAnyOrder("w1", "w2", "w4");

    Path handWritten = dir.resolve("fleet.yaml");
    Files.writeString(handWritten, "group: demo\nmembers:\n  - id: a\n");
    Cli.Result bad = Cli.run("plan", "--cluster", handWritten.toString(), "--add", "b");
    assertThat(bad.status()).isEqualTo(2);
    assertThat(bad.err()).contains(handWritten + ":1:").contains("unknown field 'group'");
  }
}
