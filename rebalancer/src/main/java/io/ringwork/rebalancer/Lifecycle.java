package io.ringwork.rebalancer;

import java.util.concurrent.atomic.AtomicReference;

/** LATENT, STARTED, CLOSED by compare-and-set. */
final class Lifecycle {
  private enum State {
    LATENT,
    STARTED,
    CLOSED
  }

  private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);

  void start() {
    if (!state.compareAndSet(State.LATENT, State.STARTED)) {
      throw new IllegalStateException("cannot start: already " + state.get());
    }
  }

  boolean close() {
    return state.getAndSet(State.CLOSED) != State.CLOSED;
  }

  boolean isClosed() {
    return state.get() == State.CLOSED;
  }
}
