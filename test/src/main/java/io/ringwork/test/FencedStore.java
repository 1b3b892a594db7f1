package io.ringwork.test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An in-memory model of a store that fences its writes, and the count of the stale writes it let
 * through: what a test puts behind its service to see whether fencing did its job.
 *
 * <p>Per resource (a partition, a key: any name the test chooses) it keeps the highest token ever
 * issued, recorded with {@link #issued} whenever a grant, guard or lock is observed, and the
 * highest token a write was accepted with. {@link #write} accepts a token at or above the highest
 * accepted (the {@code UPDATE ... WHERE token <= ?} every fenced store runs) and rejects a lower
 * one. An accepted write whose token is below one already issued for its resource is <em>stale
 * accepted</em>: a holder that had been superseded wrote before its successor's first write, and
 * the fence could not see it. Stores fence only what they have seen, so a correct library keeps
 * that count at 0 by stopping superseded holders, not by luck of timing.
 *
 * <p>Thread-safe.
 */
public final class FencedStore {

  private final Map<String, Long> issued = new HashMap<>();
  private final Map<String, Long> accepted = new HashMap<>();
  private final List<String> stale = new ArrayList<>();
  private long acceptedWrites;
  private long rejectedWrites;

  /** Returns an empty store. */
  public FencedStore() {}

  /**
   * Records that a token was issued for a resource (a grant, guard or lock was observed).
   *
   * @throws NullPointerException if the resource is null
   */
  public synchronized void issued(String resource, long token) {
    Objects.requireNonNull(resource, "resource");
    issued.merge(resource, token, Math::max);
  }

  /**
   * Writes a resource with a token: returns true (accepted) if the token is at or above every token
   * accepted for it so far, false (rejected) otherwise. An accepted write with a token below one
   * already issued for the resource counts as stale accepted.
   *
   * @throws NullPointerException if the resource is null
   */
  public synchronized boolean write(String resource, long token) {
    Objects.requireNonNull(resource, "resource");
    Long highest = accepted.get(resource);
    if (highest != null && token < highest) {
      rejectedWrites++;
      return false;
    }
    accepted.put(resource, token);
    acceptedWrites++;
    Long top = issued.get(resource);
    if (top != null && token < top) {
      stale.add(resource + ": accepted token " + token + " after token " + top + " was issued");
    }
    return true;
  }

  /** Returns how many writes were accepted. */
  public synchronized long accepted() {
    return acceptedWrites;
  }

  /** Returns how many writes were rejected. */
  public synchronized long rejected() {
    return rejectedWrites;
  }

  /** Returns how many accepted writes were stale (0 is the guarantee). */
  public synchronized long staleAccepted() {
    return stale.size();
  }

  /** Returns each stale accepted write, described (resource, its token, the higher issued one). */
  public synchronized List<String> staleWrites() {
    return List.copyOf(stale);
  }

  /** Returns the highest token issued for a resource, or 0 if none was. */
  public synchronized long highestIssued(String resource) {
    return issued.getOrDefault(resource, 0L);
  }
}
