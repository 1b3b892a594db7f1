package io.ringwork.lock;

import java.time.Duration;
import java.util.Objects;

/**
 * What to lock and how: a key, a mode, whether the lock covers the key's subtree, a purpose shown
 * to operators, and how long to wait.
 *
 * <pre>{@code
 * LockRequest.of("stack-7", LockMode.EXCLUSIVE).withSubtree().withPurpose("delete stack")
 * }</pre>
 *
 * @param key the key, see {@link KeyLocks} for the rules
 * @param mode the mode
 * @param subtree whether the lock also covers every key below {@code key} ({@code key/...})
 * @param purpose free text recorded in the lock node, empty when not given
 * @param timeout how long {@link KeyLocks#acquire(LockRequest)} waits; zero means try once
 */
public record LockRequest(
    String key, LockMode mode, boolean subtree, String purpose, Duration timeout) {

  /** The timeout of a request that names none. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Checks every field.
   *
   * @throws IllegalArgumentException naming the field and value that is not allowed
   */
  public LockRequest {
    LockKeys.check(key);
    Objects.requireNonNull(mode, "mode");
    purpose = LockKeys.checkPurpose(purpose);
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("lock timeout must not be negative, got " + timeout);
    }
  }

  /** Returns a request for one key, not its subtree, with no purpose and the default timeout. */
  public static LockRequest of(String key, LockMode mode) {
    return new LockRequest(key, mode, false, "", DEFAULT_TIMEOUT);
  }

  /** Returns this request covering the key's subtree too. */
  public LockRequest withSubtree() {
    return new LockRequest(key, mode, true, purpose, timeout);
  }

  /** Returns this request with a purpose. */
  public LockRequest withPurpose(String text) {
    return new LockRequest(key, mode, subtree, text, timeout);
  }

  /** Returns this request with a timeout. */
  public LockRequest withTimeout(Duration wait) {
    return new LockRequest(key, mode, subtree, purpose, wait);
  }
}
