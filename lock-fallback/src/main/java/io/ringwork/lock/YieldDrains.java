package io.ringwork.lock;

import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Partitioner;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The owner's yields that wait for fast guards in flight on their key's stripe: each drain takes
 * the stripe's flag, waits for an empty epoch to flip into, flips, waits for the old epoch to
 * empty, then writes the yield. Where a step has to wait, the drain watches what it waits for and
 * returns; the guard that empties the slot (or the drain that releases the flag) wakes {@link
 * #advanceAll} through the gate, and so do a grant change and a change in the partition's queues.
 * Nothing here sleeps or polls. Confined to the lock service's event thread, except {@link #wake}.
 */
final class YieldDrains {

  /** The queue side a drain answers to. */
  interface Requests {
    /** Whether the request is still in the queue as last listed (it may have timed out). */
    boolean stillRequested(int p, String queue, LockNode request);

    /** Writes the yield, if this member still holds p's active grant. */
    void writeYield(int p, String queue, LockNode request);
  }

  private final FastPathGate gate;
  private final KeyRouter router;
  private final OwnerState state;
  private final KeyLockCore core;
  private final Requests requests;
  private final Map<String, YieldDrain> drains = new LinkedHashMap<>();
  // Yields waiting for guards (their count), and whether a pass over them is queued.
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicBoolean wakeQueued = new AtomicBoolean();

  YieldDrains(
      FastPathGate gate, KeyRouter router, OwnerState state, KeyLockCore core, Requests requests) {
    this.gate = gate;
    this.router = router;
    this.state = state;
    this.core = core;
    this.requests = requests;
  }

  boolean isEmpty() {
    return drains.isEmpty();
  }

  /** Drains the request's stripe (unless it is this member's own), then writes the yield. */
  void yieldTo(int p, String queue, LockNode request, boolean own) {
    if (own) {
      requests.writeYield(p, queue, request);
      return;
    }
    String id = queue + "/" + request.name();
    if (drains.containsKey(id)) {
      return; // under way
    }
    int stripe =
        gate.stripeOf(Partitioner.hash(request.key(), 0, router.routingKeyEnd(request.key())));
    YieldDrain d = new YieldDrain(id, p, queue, request, stripe);
    drains.put(id, d);
    pending.incrementAndGet();
    advance(d);
  }

  /** Takes a yield's drain as far as it can go now. */
  private void advance(YieldDrain d) {
    boolean granted = state.stillGranted(d.p);
    if (!granted || !requests.stillRequested(d.p, d.queue, d.request)) {
      // Lost the grant or the request went (timed out, released): give up; a flip stays in place
      // and the next drain of the stripe waits for what it left behind.
      finish(d, false);
      return;
    }
    if (!d.flag) {
      if (!d.await(Phase.FLAG, () -> gate.tryBeginDrain(d.stripe))) {
        return;
      }
      d.flag = true;
    }
    if (d.slot < 0) {
      int next = gate.nextSlot(d.stripe);
      // A guard that an earlier drain gave up on still sits in the epoch we would flip into:
      // flipping now would count it as new and yield past it. Wait for it (left-right).
      if (!d.await(Phase.NEXT, next, () -> gate.drained(next))) {
        return;
      }
      d.slot = gate.flip(d.stripe);
    }
    if (!d.await(Phase.OLD, d.slot, () -> gate.drained(d.slot))) {
      return;
    }
    finish(d, true);
  }

  /** Ends a yield's drain: stops watching, releases the flag, and writes the yield if drained. */
  private void finish(YieldDrain d, boolean drained) {
    d.unwatch();
    if (drains.remove(d.id) == d) {
      pending.decrementAndGet();
    }
    if (d.flag) {
      d.flag = false;
      gate.endDrain(d.stripe);
    }
    if (drained) {
      requests.writeYield(d.p, d.queue, d.request);
    }
  }

  /** Advances every yield waiting for fast guards (event thread), after a wake-up. */
  void advanceAll() {
    wakeQueued.set(false);
    if (drains.isEmpty()) {
      return;
    }
    for (YieldDrain d : List.copyOf(drains.values())) {
      if (drains.get(d.id) == d) {
        advance(d);
      }
    }
  }

  /** Queues one pass over the yields waiting for fast guards, unless one is queued already. */
  void wake() {
    if (pending.get() > 0 && wakeQueued.compareAndSet(false, true)) {
      if (!core.submit(this::advanceAll)) {
        wakeQueued.set(false); // closed
      }
    }
  }

  private enum Phase {
    FLAG,
    NEXT,
    OLD
  }

  /** A yield waiting for the fast guards of its stripe: confined to the event thread. */
  private final class YieldDrain {
    final String id;
    final int p;
    final String queue;
    final LockNode request;
    final int stripe;
    boolean flag;
    int slot = -1;
    // What this drain watches: the phase, and the slot for NEXT and OLD.
    Phase watching;
    int watchedSlot = -1;

    YieldDrain(String id, int p, String queue, LockNode request, int stripe) {
      this.id = id;
      this.p = p;
      this.queue = queue;
      this.request = request;
      this.stripe = stripe;
    }

    boolean await(Phase phase, BooleanSupplier ready) {
      return await(phase, -1, ready);
    }

    /**
     * Whether {@code ready} holds; if not, watches it (watch first, then look again: the gate's
     * wake-up is then never missed) and returns false, to be advanced again when woken.
     */
    boolean await(Phase phase, int watchSlot, BooleanSupplier ready) {
      if (watching != phase || watchedSlot != watchSlot) {
        if (ready.getAsBoolean()) {
          unwatch();
          return true;
        }
        unwatch();
        watching = phase;
        watchedSlot = watchSlot;
        if (phase == Phase.FLAG) {
          gate.watchFlag(stripe);
        } else {
          gate.watchSlot(watchSlot);
        }
      }
      if (ready.getAsBoolean()) {
        unwatch();
        return true;
      }
      return false;
    }

    void unwatch() {
      if (watching == Phase.FLAG) {
        gate.unwatchFlag(stripe);
      } else if (watching != null) {
        gate.unwatchSlot(watchedSlot);
      }
      watching = null;
      watchedSlot = -1;
    }
  }
}
