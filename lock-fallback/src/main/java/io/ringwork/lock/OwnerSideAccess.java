package io.ringwork.lock;

import io.ringwork.lock.internal.OwnerSide;
import java.time.Duration;

/** The lock module's side of {@link OwnerSide}: installed by {@link KeyLocks}. */
final class OwnerSideAccess implements OwnerSide.Access {

  @Override
  public PartitionGuards partitionGuards(KeyLocks locks) {
    return locks.partitionGuards();
  }

  @Override
  public boolean update(
      PartitionGuards guards,
      long[] tokens,
      boolean connected,
      long sessionId,
      Duration drainTimeout) {
    return guards.update(tokens, connected, sessionId, drainTimeout);
  }
}
