package io.ringwork.simulator;

/** Bad input from a file or an option: the CLI prints the message and exits with status 2. */
final class InputException extends RuntimeException {

  InputException(String message) {
    super(message);
  }

  InputException(String message, Throwable cause) {
    super(message, cause);
  }
}
