package io.ringwork.simulator;

import static org.assertj.core.api.Assertions.assertThat;

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

  @Test
  void help_everyCommandHasExamples() {
    for (String command : new String[] {"lookup", "plan", "compare", "agent", "join", "members"}) {
      Cli.Result r = Cli.run(command, "--help");
      assertThat(r.status()).isZero();
      assertThat(r.out()).as(command).contains("Example");
    }
  }
}
