package io.ringwork.simulator;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs the CLI in-process and captures what it prints. */
public final class Cli {

  public record Result(int status, String out, String err) {}

  private Cli() {}

  public static Result run(String... args) {
    return runWithStdin(null, args);
  }

  /**
   * Runs without touching stdin, so that several commands may run at once (a lock and a listing).
   */
  public static Result runAlongside(String... args) {
    CommandLine cl = RingworkCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int status = cl.execute(args);
    return new Result(status, out.toString(), err.toString());
  }

  public static synchronized Result runWithStdin(String stdin, String... args) {
    CommandLine cl = RingworkCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    InputStream saved = System.in;
    try {
      if (stdin != null) {
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
      }
      int status = cl.execute(args);
      return new Result(status, out.toString(), err.toString());
    } finally {
      System.setIn(saved);
    }
  }
}
