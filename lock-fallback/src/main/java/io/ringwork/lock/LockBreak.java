package io.ringwork.lock;

import java.util.List;

/**
 * A record of a forced break ({@link KeyLocks#breakLock}), kept in ZooKeeper so that whoever looks
 * at the key later ({@code ringwork locks}, {@code inspect --key}) sees who broke which holder and
 * when. A group keeps the newest {@link #KEPT} records, none older than {@link #MAX_AGE_MILLIS}:
 * each break trims the rest.
 *
 * @param key the key whose locks were broken
 * @param by the member id of the breaker (for the CLI, its {@code --by} name)
 * @param atMillis when, epoch milliseconds
 * @param holders the locks it deleted
 */
public record LockBreak(String key, String by, long atMillis, List<Holder> holders) {

  /** How many break records a group keeps. */
  public static final int KEPT = 100;

  /** The age beyond which a break record is removed by the next break: seven days. */
  public static final long MAX_AGE_MILLIS = 7L * 24 * 3600 * 1000;

  /** Copies the list. */
  public LockBreak {
    holders = List.copyOf(holders);
  }

  /**
   * A lock that was broken.
   *
   * @param member its holder
   * @param mode the mode it held
   * @param token its fencing token
   * @param since when it was requested, epoch milliseconds
   * @param purpose what it was for
   */
  public record Holder(String member, LockMode mode, long token, long since, String purpose) {}
}
