package io.ringwork.lock;

import io.ringwork.membership.SessionLease;
import java.time.Duration;

/** What a {@link LockHandle} asks of the lock service that made it. */
interface HandleHost {

  /** The lease of the service's session, by which a handle tells HELD from expiring. */
  SessionLease lease();

  /** Runs a holder's callback, logging what it throws. */
  void runGuarded(Runnable call, String what, String key);

  /** The work of {@link LockHandle#release()}, after the handle moved to RELEASED. */
  ReleaseOutcome released(LockHandle h, LockState before);

  /** Forgets a hold that was lost. */
  void lostHold(LockHandle h);

  /** Upgrades a hold to EXCLUSIVE, waiting up to {@code timeout}. */
  void upgrade(LockHandle h, Duration timeout) throws LockException, InterruptedException;

  /** Downgrades an EXCLUSIVE hold. */
  void downgrade(LockHandle h, LockMode target);
}
