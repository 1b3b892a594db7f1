package io.ringwork.rebalancer;

import io.ringwork.membership.internal.ListenerGuard;
import io.ringwork.ring.Assignment;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards a user's listener with the one rule of {@link ListenerGuard}: a callback that throws is
 * logged with the member and the callback's name and otherwise ignored (a {@link
 * VirtualMachineError} still propagates), and an interrupt it leaves behind is cleared so that it
 * cannot poison the listener thread.
 */
final class GuardedListener implements OwnershipListener {

  private static final Logger log = LoggerFactory.getLogger(GuardedListener.class);

  private final OwnershipListener delegate;
  private final ListenerGuard guard;

  GuardedListener(OwnershipListener delegate, String member) {
    this.delegate = delegate;
    this.guard = new ListenerGuard(log, "rebalancer " + member);
  }

  @Override
  public void onAssigned(List<Grant> grants) {
    guard("onAssigned", () -> delegate.onAssigned(grants));
  }

  @Override
  public void onRevoked(Set<Integer> partitions) {
    guard("onRevoked", () -> delegate.onRevoked(partitions));
  }

  @Override
  public void onLost(Set<Integer> partitions) {
    guard("onLost", () -> delegate.onLost(partitions));
  }

  @Override
  public void onSuspended() {
    guard("onSuspended", delegate::onSuspended);
  }

  @Override
  public void onResumed() {
    guard("onResumed", delegate::onResumed);
  }

  @Override
  public void onAssignment(Assignment assignment) {
    guard("onAssignment", () -> delegate.onAssignment(assignment));
  }

  @Override
  public void onStandby(Set<Integer> partitions) {
    guard("onStandby", () -> delegate.onStandby(partitions));
  }

  @Override
  public void onStandbyRevoked(Set<Integer> partitions) {
    guard("onStandbyRevoked", () -> delegate.onStandbyRevoked(partitions));
  }

  private void guard(String callback, Runnable call) {
    guard.run(callback, call);
  }
}
