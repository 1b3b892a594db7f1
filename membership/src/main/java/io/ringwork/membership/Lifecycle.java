package io.ringwork.membership;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The lifecycle of a component with {@code start()} and {@code close()}: LATENT, then STARTED, then
 * CLOSED, by compare-and-set. Shared by every Ringwork component that has one.
 */
public final class Lifecycle {

  /** The states, in order. */
  public enum State {
    LATENT,
    STARTED,
    CLOSED
  }

  private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);

  /**
   * Moves from LATENT to STARTED.
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    if (!state.compareAndSet(State.LATENT, State.STARTED)) {
      throw new IllegalStateException("cannot start: already " + state.get());
    }
  }

  /** Moves to CLOSED; returns whether this call did it (false when it was already closed). */
  public boolean close() {
    return state.getAndSet(State.CLOSED) != State.CLOSED;
  }

  /** Returns whether it is closed. */
  public boolean isClosed() {
    return state.get() == State.CLOSED;
  }

  /** Returns the current state. */
  public State state() {
    return state.get();
  }
}
