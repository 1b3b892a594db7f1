package io.ringwork.rebalancer;

/** Thrown when a stored assignment or one of its deltas cannot be decoded. */
public final class CorruptAssignmentException extends IllegalArgumentException {

  /** Creates the exception with a message that says what was wrong. */
  public CorruptAssignmentException(String message) {
    super(message);
  }
}
