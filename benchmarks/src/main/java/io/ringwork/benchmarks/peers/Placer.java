package io.ringwork.benchmarks.peers;

import java.util.List;

/**
 * A competitor for placement. Inputs are converted to the peer's own form in {@link #prepare},
 * outside the timed region; {@link #compute} is what the benchmark times.
 */
public interface Placer {

  /** The names accepted by {@link #create(String)}. */
  List<String> NAMES =
      List.of("balanced", "rendezvous", "kafka-uniform", "kafka-cooperative-sticky");

  /** Converts a case to this peer's input. */
  Object prepare(PlacementCase c);

  /** Computes the assignment. */
  Object compute(Object prepared);

  /** Reads a result as the owner id of each partition. */
  String[] owners(Object result, PlacementCase c);

  /**
   * Returns a peer by name.
   *
   * @throws IllegalArgumentException for an unknown name
   */
  static Placer create(String name) {
    return switch (name) {
      case "balanced", "rendezvous" -> new OurPlacer(name);
      case "kafka-uniform" -> new KafkaUniformPlacer();
      case "kafka-cooperative-sticky" -> new KafkaCooperativeStickyPlacer();
      default ->
          throw new IllegalArgumentException(
              "unknown placer '" + name + "', expected one of " + NAMES);
    };
  }
}
