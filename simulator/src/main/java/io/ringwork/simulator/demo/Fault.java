package io.ringwork.simulator.demo;

import io.ringwork.simulator.cli.InputException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** A kind of fault the demo injects, named on the command line by its {@link #label()}. */
enum Fault {
  /** A new worker joins. */
  JOIN,
  /** A worker hands over gracefully and stops. */
  DRAIN,
  /** A worker dies: kill -9, or its session ended on the server. */
  CRASH,
  /** A worker freezes past its session timeout, then writes with its old token. */
  PAUSE,
  /** The group's leader crashes. */
  LEADER,
  /** The embedded server restarts: every session is disconnected, none is lost. */
  CONNECTION,
  /**
   * Every live worker in turn leaves for a restart and comes back with the same id under a restart
   * grace; only when asked for, since the other faults would feel the grace.
   */
  RESTART;

  /** The faults a run injects unless {@code --faults} says otherwise. */
  static final List<Fault> DEFAULTS = List.of(JOIN, DRAIN, CRASH, PAUSE, LEADER, CONNECTION);

  /** The fault's name on the command line and in the report. */
  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Returns the fault named {@code label}.
   *
   * @throws InputException naming the label and the known faults when there is none
   */
  static Fault parse(String label) {
    for (Fault f : values()) {
      if (f.label().equals(label)) {
        return f;
      }
    }
    throw new InputException(
        "--faults: unknown fault '"
            + label
            + "'; known: "
            + Arrays.stream(values()).map(Fault::label).toList());
  }
}
