package io.ringwork.lock;

/** What {@link LockHandle#release()} did. It never throws. */
public enum ReleaseOutcome {
  /** The lock node was deleted (or was already gone in the holder's own session). */
  RELEASED,
  /** The lock had been lost before; nothing was deleted. */
  ALREADY_LOST,
  /** An earlier call released it; this one did nothing. */
  ALREADY_RELEASED,
  /**
   * The connection is down: the handle is released locally and its node is deleted in the
   * background as soon as the session reconnects (or goes with the session if it expires).
   */
  PENDING
}
