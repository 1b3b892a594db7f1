package io.ringwork.membership.internal;

import org.slf4j.Logger;

/**
 * The one rule for calling a user's listener from one of Ringwork's own threads: whatever the
 * listener throws is logged and ignored (an {@link Error} too, but not a {@link
 * VirtualMachineError}, after which nothing can be trusted), and an interrupt flag it leaves on the
 * thread is cleared (with a warning), so that the thread's next wait is not cut short. For
 * Ringwork's modules, not an API.
 */
public final class ListenerGuard {

  private final Logger log;
  private final String owner;

  /**
   * A guard that logs to {@code log} and names the listeners' {@code owner} (for example
   * "rebalancer m1") in what it logs.
   */
  public ListenerGuard(Logger log, String owner) {
    this.log = log;
    this.owner = owner;
  }

  /** Runs {@code call}, the listener's {@code callback}, under the rule. */
  public void run(Object callback, Runnable call) {
    try {
      call.run();
    } catch (VirtualMachineError e) {
      throw e;
    } catch (RuntimeException | Error e) {
      log.error("listener {} of {} threw; ignored", callback, owner, e);
    }
    if (Thread.interrupted()) {
      log.warn("listener {} of {} left the thread interrupted; cleared", callback, owner);
    }
  }
}
