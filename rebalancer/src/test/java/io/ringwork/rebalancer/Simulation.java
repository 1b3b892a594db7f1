package io.ringwork.rebalancer;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Simulated event threads in virtual time, all run by the test's one thread: each {@link
 * EventThread} runs its tasks one at a time in the order they are due, and {@link #step()} runs one
 * task of a thread picked at random (by a seed) among those with a task due, so that a seed is one
 * interleaving of the members' events and a run can be checked after every task. Listener callbacks
 * run at once on the calling thread ({@link #direct()}), as a listener thread that is never slow
 * would.
 */
final class Simulation {

  private final Random random;
  private final List<EventThread> threads = new ArrayList<>();
  private long now;
  private long seq;
  private long steps;

  Simulation(long seed) {
    this.random = new Random(seed);
  }

  /** A new simulated event thread. */
  EventThread newThread() {
    EventThread t = new EventThread();
    threads.add(t);
    return t;
  }

  /** The simulated clock, in nanoseconds. */
  long now() {
    return now;
  }

  /** The number of tasks run so far. */
  long steps() {
    return steps;
  }

  /**
   * Runs one task: one of a thread picked at random among those with a task due now, or else the
   * earliest task after moving the clock to it. Returns false when no task is left.
   */
  boolean step() {
    List<EventThread> due = new ArrayList<>();
    long earliest = Long.MAX_VALUE;
    for (EventThread t : threads) {
      Job head = t.queue.peek();
      if (head == null) {
        continue;
      }
      earliest = Math.min(earliest, head.due);
      if (head.due <= now) {
        due.add(t);
      }
    }
    if (due.isEmpty()) {
      if (earliest == Long.MAX_VALUE) {
        return false;
      }
      now = earliest;
      return step();
    }
    EventThread t = due.get(random.nextInt(due.size()));
    Job job = t.queue.poll();
    steps++;
    job.run();
    return true;
  }

  /** An executor that runs every task at once on the calling thread. */
  static ExecutorService direct() {
    return new AbstractExecutorService() {
      private boolean shutdown;

      @Override
      public void execute(Runnable command) {
        command.run();
      }

      @Override
      public void shutdown() {
        shutdown = true;
      }

      @Override
      public List<Runnable> shutdownNow() {
        shutdown = true;
        return List.of();
      }

      @Override
      public boolean isShutdown() {
        return shutdown;
      }

      @Override
      public boolean isTerminated() {
        return shutdown;
      }

      @Override
      public boolean awaitTermination(long timeout, TimeUnit unit) {
        return true;
      }
    };
  }

  /** One simulated event thread. Only the scheduling methods the rebalancer uses are supported. */
  final class EventThread extends AbstractExecutorService implements ScheduledExecutorService {
    private final PriorityQueue<Job> queue = new PriorityQueue<>();
    private boolean shutdown;

    @Override
    public void execute(Runnable command) {
      schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      if (shutdown) {
        throw new RejectedExecutionException("shut down");
      }
      Job job = new Job(this, command, now + unit.toNanos(Math.max(0, delay)), seq++);
      queue.add(job);
      return job;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
      Runnable call =
          () -> {
            try {
              callable.call();
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          };
      return (ScheduledFuture<V>) schedule(call, delay, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(
        Runnable command, long initialDelay, long period, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(
        Runnable command, long initialDelay, long delay, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    /** Stops at once, as a crash: queued tasks never run. */
    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      queue.clear();
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown && queue.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return isTerminated();
    }

    /** Whether no task is queued. */
    boolean idle() {
      return queue.isEmpty();
    }

    private void cancel(Job job) {
      queue.remove(job);
    }
  }

  /** A queued task. */
  private final class Job implements ScheduledFuture<Object>, Runnable {
    private final EventThread thread;
    private final Runnable task;
    private final long due;
    private final long order;
    private boolean cancelled;
    private boolean done;

    Job(EventThread thread, Runnable task, long due, long order) {
      this.thread = thread;
      this.task = task;
      this.due = due;
      this.order = order;
    }

    @Override
    public void run() {
      done = true;
      task.run();
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(due - now, TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      Job other = (Job) o;
      return due != other.due ? Long.compare(due, other.due) : Long.compare(order, other.order);
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      if (done) {
        return false;
      }
      cancelled = true;
      done = true;
      thread.cancel(this);
      return true;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return done;
    }

    @Override
    public Object get() {
      throw new UnsupportedOperationException("a simulated task is never waited for");
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      return get();
    }
  }

  /** Every thread's queue is empty. */
  boolean quiet() {
    for (EventThread t : threads) {
      if (!t.idle()) {
        return false;
      }
    }
    return true;
  }
}
