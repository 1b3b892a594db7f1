package io.ringwork.simulator.cli;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The {@code --connect-timeout} option of the one-off commands that read or lock a live group
 * ({@code members}, {@code locks}, {@code inspect}, {@code lock}, {@code lookup --connect}): how
 * long to wait for ZooKeeper before exiting 1, so that a wrong port fails at once when asked to.
 */
public final class ConnectTimeoutOption {

  public static final long DEFAULT_MS = 10_000;

  @Option(
      names = "--connect-timeout",
      paramLabel = "MS",
      showDefaultValue = CommandLine.Help.Visibility.ALWAYS,
      description = "How long to wait for ZooKeeper before failing.")
  private long millis = DEFAULT_MS;

  /**
   * Returns the wait in milliseconds.
   *
   * @throws InputException if it is not between 1 and 600000
   */
  public long millis() {
    if (millis < 1 || millis > 600_000) {
      throw new InputException("--connect-timeout must be between 1 and 600000 ms, got " + millis);
    }
    return millis;
  }
}
