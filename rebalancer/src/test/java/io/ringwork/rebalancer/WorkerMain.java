package io.ringwork.rebalancer;

import io.ringwork.ring.Member;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A worker in its own JVM, for scenarios that kill processes: {@code WorkerMain CONNECT GROUP ID
 * PARTITIONS SESSION_TIMEOUT_MS [STRATEGY]}. Prints {@code READY} once stable, then runs until
 * killed. {@link #spawn} starts one, {@link #awaitReady} waits for it (the scale test and the
 * benchmarks' handoff and scale scenarios).
 */
public final class WorkerMain {

  private WorkerMain() {}

  /** Runs the worker. */
  public static void main(String[] args) throws Exception {
    Rebalancer r =
        Rebalancer.newBuilder()
            .group(args[1])
            .member(Member.of(args[2]))
            .connectString(args[0])
            .partitions(Integer.parseInt(args[3]))
            .sessionTimeout(Duration.ofMillis(Long.parseLong(args[4])))
            .strategy(args.length > 5 ? args[5] : "balanced")
            .settleDelay(Duration.ofMillis(100))
            .build();
    r.start();
    if (r.awaitStable(Duration.ofSeconds(60))) {
      System.out.println("READY");
      System.out.flush();
    }
    Thread.currentThread().join();
  }

  /** Starts a balanced worker in its own JVM. */
  public static Process spawn(String connect, String group, String id, int p, long sessionMs)
      throws Exception {
    return spawn(connect, group, id, p, sessionMs, "balanced");
  }

  /** Starts a {@link WorkerMain} in its own JVM. */
  public static Process spawn(
      String connect, String group, String id, int p, long sessionMs, String strategy)
      throws Exception {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    return new ProcessBuilder(
            java,
            "-cp",
            classPath(),
            WorkerMain.class.getName(),
            connect,
            group,
            id,
            Integer.toString(p),
            Long.toString(sessionMs),
            strategy)
        .redirectErrorStream(true)
        .start();
  }

  /** The class path of this class, also when run by Maven's exec:java in its own loader. */
  private static String classPath() {
    if (WorkerMain.class.getClassLoader() instanceof java.net.URLClassLoader loader) {
      StringBuilder sb = new StringBuilder();
      for (java.net.URL url : loader.getURLs()) {
        try {
          sb.append(new File(url.toURI())).append(File.pathSeparator);
        } catch (java.net.URISyntaxException e) {
          throw new IllegalStateException(e);
        }
      }
      return sb.toString();
    }
    return System.getProperty("java.class.path");
  }

  /** Waits until a spawned worker prints READY, then drains its output in the background. */
  public static void awaitReady(Process child) throws Exception {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.equals("READY")) {
        Thread drainer =
            new Thread(
                () -> {
                  try {
                    out.lines().forEach(l -> {});
                  } catch (java.io.UncheckedIOException e) {
                    // the process was killed
                  }
                });
        drainer.setDaemon(true);
        drainer.start();
        return;
      }
    }
    throw new IllegalStateException("worker process exited before it was ready");
  }
}
