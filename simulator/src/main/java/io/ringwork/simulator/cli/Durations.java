package io.ringwork.simulator.cli;

import java.time.Duration;

/** Durations as the CLI's options take them. */
public final class Durations {

  private Durations() {}

  /**
   * Parses {@code 500ms}, {@code 30s}, {@code 2m} or a number of seconds.
   *
   * @throws InputException naming {@code option} when the text is none of these
   */
  public static Duration parse(String option, String text) {
    try {
      if (text.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
      }
      if (text.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(text.substring(0, text.length() - 1)));
      }
      if (text.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
      }
      return Duration.ofSeconds(Long.parseLong(text));
    } catch (NumberFormatException e) {
      throw new InputException(option + " must be like 30s, 500ms or 2m, got '" + text + "'");
    }
  }
}
