package io.ringwork.rebalancer;

import io.ringwork.membership.Lifecycle;
import io.ringwork.membership.internal.DaemonThreads;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rebalancer's two threads: the event thread, on which every state change happens one event at a
 * time, and the listener thread, on which listener callbacks run (so that a slow {@code onRevoked}
 * can be given up on at its deadline). Nothing runs on the event thread once the rebalancer is
 * closed.
 */
final class EventLoop {

  private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

  private final String selfId;
  private final Lifecycle lifecycle;
  private final ScheduledExecutorService events;
  private final ExecutorService callbacks;
  private volatile Thread eventThread;
  private volatile Thread listenerThread;
  // Notified after every event: what waitFor waits on.
  private final Object eventDone = new Object();

  EventLoop(String name, String selfId, Lifecycle lifecycle) {
    this.selfId = selfId;
    this.lifecycle = lifecycle;
    this.events =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(name, t -> eventThread = t));
    this.callbacks =
        Executors.newSingleThreadExecutor(
            DaemonThreads.named(name + "-listener", t -> listenerThread = t));
  }

  /**
   * Runs events on {@code events}, which must run one task at a time, and callbacks on {@code
   * callbacks}: a test's simulated threads. Neither counts as this loop's own thread.
   */
  EventLoop(
      String selfId,
      Lifecycle lifecycle,
      ScheduledExecutorService events,
      ExecutorService callbacks) {
    this.selfId = selfId;
    this.lifecycle = lifecycle;
    this.events = events;
    this.callbacks = callbacks;
  }

  /** Runs {@code task} on the event thread; false when closed. */
  boolean submit(Runnable task) {
    if (lifecycle.isClosed() || events.isShutdown()) {
      return false;
    }
    try {
      events.execute(
          () -> {
            try {
              if (!lifecycle.isClosed()) {
                task.run();
              }
            } catch (RuntimeException e) {
              log.error("rebalancer {} event failed", selfId, e);
            } finally {
              wakeWaiters();
            }
          });
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  /** Runs {@code task} on the event thread after {@code delay}; null when closed. */
  ScheduledFuture<?> schedule(Runnable task, Duration delay) {
    try {
      return events.schedule(() -> submit(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return null;
    }
  }

  /** Runs {@code task} on the event thread even while closing (the close's own part). */
  Future<?> submitClosing(Runnable task) {
    return events.submit(task);
  }

  /** Polls a condition on the event thread until it holds or the timeout passes. */
  boolean waitFor(BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      CompletableFuture<Boolean> check = new CompletableFuture<>();
      if (!submit(() -> check.complete(condition.getAsBoolean()))) {
        return false;
      }
      try {
        if (check.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          return true;
        }
      } catch (ExecutionException | TimeoutException e) {
        return false;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      // Woken by the next event; the short bound covers a notification that came in between.
      synchronized (eventDone) {
        TimeUnit.NANOSECONDS.timedWait(eventDone, Math.min(left, 20_000_000L));
      }
    }
  }

  /** Wakes every {@link #waitFor} (after an event, and at the end of a close). */
  void wakeWaiters() {
    synchronized (eventDone) {
      eventDone.notifyAll();
    }
  }

  /** Queues a listener callback; dropped after close. */
  void callback(Runnable call) {
    try {
      callbacks.execute(call);
    } catch (RejectedExecutionException e) {
      log.debug("listener callback of {} dropped after close", selfId);
    }
  }

  /** Runs a listener callback and returns its future (onRevoked, which is waited for). */
  CompletableFuture<Void> callbackAsync(Runnable call) {
    return CompletableFuture.runAsync(call, callbacks);
  }

  boolean isEventThread() {
    return Thread.currentThread() == eventThread;
  }

  boolean isListenerThread() {
    return Thread.currentThread() == listenerThread;
  }

  /** Stops both threads: the event thread at once, the listener thread after what is queued. */
  void shutdown() {
    events.shutdownNow();
    callbacks.shutdown();
  }

  /** Stops both threads at once, as a crash would. */
  void shutdownNow() {
    events.shutdownNow();
    callbacks.shutdownNow();
  }
}
