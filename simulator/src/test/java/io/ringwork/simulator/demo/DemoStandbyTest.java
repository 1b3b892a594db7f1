package io.ringwork.simulator.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.Cli;
import org.junit.jupiter.api.Test;

/**
 * {@code ringwork demo --standby-warmup}: promoted standbys write sooner after a handoff than cold
 * owners, who pay the warm-up after their grant.
 */
final class DemoStandbyTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void standbyWarmup_promotedStandbysWriteBeforeColdOwners() throws Exception {
    Cli.Result r =
        Cli.runAlongside(
            "demo",
            "--workers",
            "2",
            "--resources",
            "200",
            "--duration",
            "2s",
            "--faults",
            "join",
            // A margin: the standby's gain is the warm-up, and with 400 ms a stall of the loaded
            // machine (load 24) outweighed it once in 10 loop runs (standby p50 1,560 ms against
            // 657 ms for cold owners, every standby write of one round late together).
            "--standby-warmup",
            "2500ms",
            "--format",
            "json");
    assertThat(r.status()).as("%s %s", r.out(), r.err()).isZero();
    JsonNode standby = JSON.readTree(r.out()).path("standby");
    assertThat(standby.path("warmupMillis").asInt()).isEqualTo(2500);
    JsonNode h = standby.path("handoffToFirstWriteMillis");
    int moved = StandbyTrial.PARTITIONS / 4 * standby.path("rounds").asInt();
    assertThat(h.path("coldOwner").path("count").asInt()).as("%s", standby).isEqualTo(moved);
    assertThat(h.path("standby").path("count").asInt()).as("%s", standby).isPositive();
    assertThat(
            h.path("standby").path("count").asInt()
                + h.path("coldOwnerWithStandbys").path("count").asInt())
        .isEqualTo(moved);
    // A cold owner writes no sooner than the warm-up after its grant, which follows the drain.
    assertThat(h.path("coldOwner").path("p50").asDouble()).isGreaterThanOrEqualTo(2500);
    assertThat(h.path("standby").path("p50").asDouble())
        .as("%s", standby)
        .isLessThan(h.path("coldOwner").path("p50").asDouble());
    assertThat(standby.path("staleWritesRejected").asLong()).isZero();
    assertThat(r.err()).contains("standby trial: replicas 2, round 3");
  }

  @Test
  void standbyWarmup_badInput_exit2() {
    Cli.Result soon = Cli.runAlongside("demo", "--standby-warmup", "soon");
    assertThat(soon.status()).isEqualTo(2);
    assertThat(soon.err()).contains("--standby-warmup");
    Cli.Result long_ = Cli.runAlongside("demo", "--standby-warmup", "11s");
    assertThat(long_.status()).isEqualTo(2);
    assertThat(long_.err()).contains("--standby-warmup must be between 0 and 10s");
  }
}
