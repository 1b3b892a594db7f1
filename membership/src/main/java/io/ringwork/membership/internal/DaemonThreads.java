package io.ringwork.membership.internal;

import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * The daemon threads of Ringwork's own executors and background tasks: named for what they serve,
 * never keeping a JVM alive. For Ringwork's modules, not an API.
 */
public final class DaemonThreads {

  private DaemonThreads() {}

  /** A factory of daemon threads named {@code name}. */
  public static ThreadFactory named(String name) {
    return named(name, t -> {});
  }

  /**
   * A factory of daemon threads named {@code name} that tells {@code created} of each thread it
   * makes (the owner of a single-thread executor keeps it, to recognise calls from its own thread).
   */
  public static ThreadFactory named(String name, Consumer<Thread> created) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      created.accept(t);
      return t;
    };
  }

  /** Makes a daemon thread named {@code name} that runs {@code task}, not started. */
  public static Thread thread(String name, Runnable task) {
    Thread t = new Thread(task, name);
    t.setDaemon(true);
    return t;
  }

  /** Starts a daemon thread named {@code name} that runs {@code task}. */
  public static Thread start(String name, Runnable task) {
    Thread t = thread(name, task);
    t.start();
    return t;
  }
}
