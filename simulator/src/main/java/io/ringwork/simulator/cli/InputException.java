package io.ringwork.simulator.cli;

/** Bad input from a file or an option: the CLI prints the message and exits with status 2. */
public final class InputException extends RuntimeException {

  public InputException(String message) {
    super(message);
  }

  public InputException(String message, Throwable cause) {
    super(message, cause);
  }
}
