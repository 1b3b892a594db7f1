package io.ringwork.simulator;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Environment defaults for the live commands' connection and group flags: {@code --connect} reads
 * {@code RINGWORK_CONNECT} when it is not given, {@code --session-timeout} reads {@code
 * RINGWORK_SESSION_TIMEOUT}, and so on ({@link #FLAGS}, {@link #COMMANDS}). A flag on the command
 * line always wins. Offline commands ({@code plan}, {@code lookup}, {@code compare}, {@code demo})
 * read nothing: an environment variable must not turn them into live ones.
 */
final class EnvironmentDefaults implements CommandLine.IDefaultValueProvider {

  /** The flags that read an environment variable. */
  static final List<String> FLAGS =
      List.of(
          "--connect",
          "--group",
          "--namespace",
          "--auth",
          "--session-timeout",
          "--connect-timeout");

  /** The commands whose flags do. */
  static final Set<String> COMMANDS =
      Set.of("agent", "join", "members", "inspect", "lock", "locks", "pause", "resume", "drain");

  private final Map<String, String> env;

  EnvironmentDefaults(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /**
   * Returns the variable a flag reads: {@code --session-timeout} reads RINGWORK_SESSION_TIMEOUT.
   */
  static String variable(String flag) {
    return "RINGWORK_" + flag.substring(2).replace('-', '_').toUpperCase(Locale.ROOT);
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)
        || option.command() == null
        || !COMMANDS.contains(option.command().name())
        || !FLAGS.contains(option.longestName())) {
      return null;
    }
    String value = env.get(variable(option.longestName()));
    return value == null || value.isBlank() ? null : value;
  }
}
