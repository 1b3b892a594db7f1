package io.ringwork.simulator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.ringwork.simulator.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class LookupCommandTest {

  private static final String[] TOOZ = {
    "lookup", "--strategy", "tooz", "--member", "foo", "--member", "bar", "--member", "baz"
  };

  private static String[] with(String[] base, String... more) {
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void tooz_matchesToozVectors() {
    Cli.Result r = Cli.run(with(TOOZ, "fake", "fake-again", "1234"));
    assertThat(r.status()).isZero();
    assertThat(r.out()).isEqualTo("fake\tfoo\nfake-again\tbar\n1234\tbaz\n");
  }

  @Test
  void tooz_replicasAndIgnore() {
    assertThat(Cli.run(with(TOOZ, "--replicas", "2", "fake")).out())
        .isIn("fake\tfoo,bar\n", "fake\tbar,foo\n");
    assertThat(Cli.run(with(TOOZ, "--ignore", "foo", "fake")).out()).isEqualTo("fake\tbar\n");
  }

  @Test
  void stdin_oneKeyPerLine_streams() {
    Cli.Result r = Cli.runWithStdin("a\nb\nc\n", "lookup", "--member", "x", "--member", "y");
    assertThat(r.status()).isZero();
    assertThat(r.out().lines()).hasSize(3).allMatch(l -> l.matches("[abc]\t[xy]"));
  }

  @Test
  void keysFile_andJsonFormat(@TempDir Path dir) throws Exception {
    Path keys = Files.writeString(dir.resolve("keys.txt"), "node-1\nnode-\"2\n");
    Cli.Result r =
        Cli.run(
            "lookup",
            "--member",
            "a",
            "--member",
            "b",
            "--replicas",
            "2",
            "--keys",
            keys.toString(),
            "--format",
            "json");
    assertThat(r.status()).isZero();
    assertThat(r.out().lines().toList())
        .hasSize(2)
        .first()
        .satisfies(
            l ->
                assertThat(l)
                    .matches(
                        "\\{\"format\":1,\"key\":\"node-1\",\"owners\":\\[\"[ab]\",\"[ab]\"\\]\\}"));
    assertThat(r.out()).contains("\"key\":\"node-\\\"2\"");
  }

  @Test
  void balanced_agreesWithTheLibrary() {
    Cli.Result r =
        Cli.run("lookup", "--member", "a", "--member", "b=3@z1", "--partitions", "64", "k1", "k2");
    var a =
        ((io.ringwork.ring.PartitionPlacement)
                io.ringwork.ring.Placement.newBuilder().partitions(64).build())
            .assign(
                null,
                java.util.List.of(
                    io.ringwork.ring.Member.of("a"), io.ringwork.ring.Member.of("b", 3, "z1")));
    assertThat(r.out())
        .isEqualTo("k1\t" + a.primary("k1").id() + "\nk2\t" + a.primary("k2").id() + "\n");
  }

  @Test
  void badInput_exit2WithMessage() {
    Cli.Result r = Cli.run("lookup", "--member", "a", "--partitions", "1000", "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("power of two").contains("1000").contains("--partitions");
    r = Cli.run("lookup", "--member", "a", "--ignore", "a", "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--ignore applies to the tooz strategy only");
    r = Cli.run("lookup", "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("the cluster is empty");
    r = Cli.run("lookup", "--member", "a=0", "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--member a=0").contains("weight must be positive");
    r = Cli.run("lookup", "--bogus");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("Unknown option");
  }

  @Test
  void connect_badCombinations_exit2() {
    Cli.Result r = Cli.run("lookup", "--connect", "127.0.0.1:1", "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--connect needs --group");
    r = Cli.run("lookup", "--connect", "127.0.0.1:1", "--group", "g", "--member", "a", "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("drop --cluster, --member");
    r = Cli.run("lookup", "--member", "a", "--group", "g", "k");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--group applies only with --connect");
  }
}
