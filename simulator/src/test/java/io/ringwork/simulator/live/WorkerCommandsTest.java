package io.ringwork.simulator.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.simulator.Cli;
import org.junit.jupiter.api.Test;

/** Input errors of the long-running commands exit 2 before connecting to anything. */
final class WorkerCommandsTest {

  @Test
  void agent_badInput_exit2() {
    Cli.Result r = Cli.run("agent", "--group", "g", "--id", "a");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("exactly one of --connect HOST:PORT and --embedded");
    r = Cli.run("agent", "--embedded", "--group", "g", "--id", "a/b");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("must not contain '/'");
    r = Cli.run("agent", "--embedded", "--group", "g", "--id", "a", "--strategy", "maglev");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("unknown strategy 'maglev'");
    r =
        Cli.run(
            "agent",
            "--connect",
            "127.0.0.1:1",
            "--group",
            "g",
            "--id",
            "a",
            "--partitions",
            "100");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("power of two");
    r = Cli.run("agent", "--connect", "127.0.0.1:1", "--id", "a");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--group");
  }

  @Test
  void join_badInput_exit2() {
    Cli.Result r =
        Cli.run("join", "--connect", "127.0.0.1:1", "--group", "g", "--id", "x", "--weight", "-1");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("weight must be positive");
    r = Cli.run("join", "--connect", "127.0.0.1:1", "--group", "a/b", "--id", "x");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("group must be non-empty without '/'");
  }

  @Test
  void members_badFormat_exit2() {
    Cli.Result r =
        Cli.run("members", "--connect", "127.0.0.1:1", "--group", "g", "--format", "xml");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--format must be table or json");
  }

  /** Issue 13, items 6 and 7: an unreachable server is a runtime failure, one line, exit 1. */
  @Test
  void agentAndJoin_unreachableServer_exit1WithOneLineAndNoLeaveEvent() {
    for (String command : new String[] {"agent", "join"}) {
      long start = System.nanoTime();
      Cli.Result r =
          Cli.run(
              command,
              "--connect",
              "127.0.0.1:1",
              "--group",
              "g",
              "--id",
              "a",
              "--session-timeout",
              "500");
      assertThat(r.status()).as(command).isEqualTo(1);
      assertThat(r.err().strip().lines())
          .as(command)
          .singleElement()
          .asString()
          .startsWith("ringwork: failed: could not connect to ZooKeeper at 127.0.0.1:1 within");
      assertThat(r.out()).as(command).doesNotContain("drained").doesNotContain("\"left\"");
      // The connect timeout defaults to twice the session timeout, not a fixed 30 s.
      assertThat(System.nanoTime() - start).as(command).isLessThan(10_000_000_000L);
    }
  }

  @Test
  void agent_portWithoutEmbedded_exit2() {
    Cli.Result r =
        Cli.run("agent", "--connect", "127.0.0.1:1", "--group", "g", "--id", "a", "--port", "2181");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--port applies only with --embedded");
  }

  @Test
  void help_everyCommandHasExamples() {
    for (String command : new String[] {"lookup", "plan", "compare", "agent", "join", "members"}) {
      Cli.Result r = Cli.run(command, "--help");
      assertThat(r.status()).isZero();
      assertThat(r.out()).as(command).contains("Example");
    }
  }
}
