package io.ringwork.simulator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** Child processes of an integration test: the ringwork jar, with their output lines collected. */
public final class Processes implements AutoCloseable {

  /** A running child and every line it printed, with the local time it was read. */
  public static final class Child {
    public final String name;
    public final Process process;
    public final List<String> lines = new CopyOnWriteArrayList<>();
    public final List<Long> times = new CopyOnWriteArrayList<>();

    Child(String name, Process process) {
      this.name = name;
      this.process = process;
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = r.readLine()) != null) {
                    times.add(System.currentTimeMillis());
                    lines.add(line);
                  }
                } catch (IOException e) {
                  // the process ended
                }
              },
              "read-" + name);
      reader.setDaemon(true);
      reader.start();
    }

    public void signal(String signal) throws Exception {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
              .inheritIO()
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
      }
    }

    @Override
    public String toString() {
      return name + " " + lines;
    }
  }

  private final List<Child> children = new ArrayList<>();

  public Child start(String name, List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    Child c = new Child(name, p);
    children.add(c);
    return c;
  }

  public Child ringwork(String name, String... args) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(RingworkJarIT.java(), "-Xmx256m", "-jar", RingworkJarIT.jar().toString()));
    command.addAll(List.of(args));
    return start(name, command);
  }

  /** As {@link #ringwork}, with the child's stderr among its lines (its warnings, its errors). */
  public Child ringworkWithErr(String name, String... args) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(RingworkJarIT.java(), "-Xmx256m", "-jar", RingworkJarIT.jar().toString()));
    command.addAll(List.of(args));
    Child c = new Child(name, new ProcessBuilder(command).redirectErrorStream(true).start());
    children.add(c);
    return c;
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    for (Child c : children) {
      c.process.destroyForcibly();
      try {
        c.process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
