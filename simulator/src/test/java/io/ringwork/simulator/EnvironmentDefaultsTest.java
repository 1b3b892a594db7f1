package io.ringwork.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** RINGWORK_* environment defaults of the live commands' connection and group flags. */
final class EnvironmentDefaultsTest {

  private static final Map<String, String> ENV =
      Map.of(
          "RINGWORK_CONNECT", "zk1:2181",
          "RINGWORK_GROUP", "conductors",
          "RINGWORK_NAMESPACE", "/env",
          "RINGWORK_AUTH", "user:pw",
          "RINGWORK_SESSION_TIMEOUT", "7000",
          "RINGWORK_CONNECT_TIMEOUT", "9000");

  /** Parses {@code args} and returns the values of the subcommand's options by name. */
  private static Map<String, Object> parse(Map<String, String> env, String... args) {
    CommandLine cl = RingworkCommand.commandLine(env);
    CommandLine.ParseResult r = cl.parseArgs(args);
    Map<String, Object> values = new java.util.HashMap<>();
    for (CommandLine.Model.OptionSpec o : r.subcommand().commandSpec().options()) {
      if (o.getValue() != null) {
        values.put(o.longestName(), o.getValue());
      }
    }
    return values;
  }

  @Test
  void inspect_noFlags_readsConnectGroupAndNamespace() {
    Map<String, Object> c = parse(ENV, "inspect");
    assertThat(c.get("--connect")).isEqualTo("zk1:2181");
    assertThat(c.get("--group")).isEqualTo("conductors");
    assertThat(c.get("--namespace")).isEqualTo("/env");
  }

  @Test
  void inspect_flagsGiven_winOverTheEnvironment() {
    Map<String, Object> c = parse(ENV, "inspect", "--connect", "zk9:2181", "--group", "g");
    assertThat(c.get("--connect")).isEqualTo("zk9:2181");
    assertThat(c.get("--group")).isEqualTo("g");
  }

  @Test
  void inspect_noEnvironment_keepsDefaultsAndRequiresFlags() {
    Map<String, Object> c = parse(Map.of(), "inspect", "--connect", "a:1", "--group", "g");
    assertThat(c.get("--namespace")).isEqualTo("/ringwork");
    CommandLine cl = RingworkCommand.commandLine(Map.of());
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("inspect")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required options");
  }

  /** What each live command requires besides the flags the environment gives. */
  private static final Map<String, List<String>> REQUIRED =
      Map.of(
          "agent", List.of("--id", "w"),
          "join", List.of("--id", "w"),
          "lock", List.of("--id", "w", "--key", "k"),
          "pause", List.of("--for", "1m"),
          "drain", List.of("--member", "w"));

  @Test
  void everyLiveCommand_readsEachOfItsConnectionAndGroupFlags() {
    int read = 0;
    for (String name : EnvironmentDefaults.COMMANDS) {
      List<String> args = new ArrayList<>(List.of(name));
      args.addAll(REQUIRED.getOrDefault(name, List.of()));
      CommandLine.ParseResult r =
          RingworkCommand.commandLine(ENV).parseArgs(args.toArray(String[]::new));
      CommandLine.Model.CommandSpec spec = r.subcommand().commandSpec();
      for (String flag : EnvironmentDefaults.FLAGS) {
        CommandLine.Model.OptionSpec o = spec.findOption(flag);
        if (o != null) {
          assertThat(String.valueOf((Object) o.getValue()))
              .as(name + " " + flag)
              .isEqualTo(ENV.get(EnvironmentDefaults.variable(flag)));
          read++;
        }
      }
    }
    assertThat(read).isGreaterThanOrEqualTo(20);
  }

  @Test
  void offlineCommands_readNothing() {
    CommandLine.ParseResult r =
        RingworkCommand.commandLine(ENV).parseArgs("lookup", "--member", "a", "k");
    CommandLine.Model.CommandSpec lookup = r.subcommand().commandSpec();
    assertThat((Object) lookup.findOption("--connect").getValue()).isNull();
    assertThat((Object) lookup.findOption("--group").getValue()).isNull();
  }

  @Test
  void variable_flag_isUpperSnakeCaseWithPrefix() {
    assertThat(EnvironmentDefaults.variable("--session-timeout"))
        .isEqualTo("RINGWORK_SESSION_TIMEOUT");
  }
}
