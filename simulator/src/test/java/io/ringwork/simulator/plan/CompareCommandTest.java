package io.ringwork.simulator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringwork.simulator.Cli;
import org.junit.jupiter.api.Test;

final class CompareCommandTest {

  @Test
  void example_allStrategiesSideBySide_balancedIsExactAndMinimal() throws Exception {
    Cli.Result r = Cli.run("compare", "--example", "--sample-keys", "50000", "--format", "json");
    assertThat(r.status()).as(r.err()).isZero();
    JsonNode strategies = new ObjectMapper().readTree(r.out()).get("strategies");
    assertThat(strategies.fieldNames())
        .toIterable()
        .containsExactly("balanced", "rendezvous", "tooz", "jump", "ketama-160");
    for (JsonNode step : strategies.get("balanced")) {
      assertThat(step.get("peakToAverage").asDouble()).isLessThan(1.05);
      assertThat((double) step.get("moved").asLong() / step.get("optimalMoved").asLong())
          .isBetween(0.97, 1.03);
    }
    // Jump renumbers buckets when a member in the middle leaves: it moves far more than needed.
    JsonNode jumpRemove = strategies.get("jump").get(1);
    assertThat(jumpRemove.get("moved").asLong())
        .isGreaterThan(2 * jumpRemove.get("optimalMoved").asLong());
  }

  @Test
  void tableAndCsv() {
    Cli.Result table = Cli.run("compare", "--example", "--sample-keys", "5000");
    assertThat(table.status()).isZero();
    assertThat(table.out())
        .contains("ketama-160")
        .contains("moved/opt")
        .contains("step 3: fail-zone zone-c");
    Cli.Result csv = Cli.run("compare", "--example", "--sample-keys", "5000", "--format", "csv");
    assertThat(csv.out().lines().skip(1).toList()).hasSize(15);
  }
}
