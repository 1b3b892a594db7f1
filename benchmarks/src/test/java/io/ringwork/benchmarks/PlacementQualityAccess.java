package io.ringwork.benchmarks;

import io.ringwork.benchmarks.peers.PlacementCase;

/** Opens {@link PlacementQuality#measure} to the peers' tests. */
public final class PlacementQualityAccess {

  private PlacementQualityAccess() {}

  /** Measures a placement's quality. */
  public static PlacementQuality.Quality measure(PlacementCase c, String[] owners) {
    return PlacementQuality.measure(c, owners);
  }
}
