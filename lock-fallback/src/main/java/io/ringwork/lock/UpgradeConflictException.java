package io.ringwork.lock;

/**
 * An upgrade to EXCLUSIVE cannot be granted now because another hold or an earlier request stands
 * in the way; it is reported at once instead of waiting into a deadlock. The caller still holds its
 * lock in its previous mode.
 */
public final class UpgradeConflictException extends LockException {
  private static final long serialVersionUID = 1L;

  private final String blocker;

  UpgradeConflictException(String message, String blocker) {
    super(message);
    this.blocker = blocker;
  }

  /** Returns the hold or request in the way, as {@code "<member> (<mode>, token T)"}. */
  public String blocker() {
    return blocker;
  }
}
