package io.ringwork.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The configuration metadata IDEs complete {@code ringwork.*} properties from. */
final class RingworkMetadataTest {

  private static JsonNode metadata() throws Exception {
    for (URL url :
        Collections.list(
            RingworkMetadataTest.class
                .getClassLoader()
                .getResources("META-INF/spring-configuration-metadata.json"))) {
      try (InputStream in = url.openStream()) {
        JsonNode n = new ObjectMapper().readTree(in);
        if (n.path("groups").toString().contains(RingworkProperties.class.getName())) {
          return n;
        }
      }
    }
    throw new AssertionError("no spring-configuration-metadata.json describes RingworkProperties");
  }

  @Test
  void metadata_everyProperty_isDescribed() throws Exception {
    JsonNode m = metadata();
    List<String> names = new ArrayList<>();
    for (JsonNode p : m.path("properties")) {
      names.add(p.path("name").asText());
      assertThat(p.path("description").asText()).as(p.path("name").asText()).isNotBlank();
    }
    assertThat(names)
        .contains(
            "ringwork.connect",
            "ringwork.group",
            "ringwork.id",
            "ringwork.namespace",
            "ringwork.weight",
            "ringwork.zone",
            "ringwork.labels",
            "ringwork.strategy",
            "ringwork.partitions",
            "ringwork.replicas",
            "ringwork.route-until",
            "ringwork.session-timeout",
            "ringwork.revoke-deadline",
            "ringwork.drain-timeout",
            "ringwork.restart-grace",
            "ringwork.auth",
            "ringwork.enabled");
  }

  @Test
  void metadata_strategy_hintsItsValues() throws Exception {
    List<String> values = new ArrayList<>();
    for (JsonNode h : metadata().path("hints")) {
      if (h.path("name").asText().equals("ringwork.strategy")) {
        h.path("values").forEach(v -> values.add(v.path("value").asText()));
      }
    }
    assertThat(values).containsExactly("balanced", "rendezvous", "tooz");
  }
}
