package io.ringwork.rebalancer;

import com.codahale.metrics.health.HealthCheck;
import java.util.Objects;

/**
 * A Dropwizard health check of one rebalancer: healthy while it is stable, rebalancing or draining;
 * unhealthy before it starts, while its connection is suspended (its grants are paused), after its
 * session was lost (until it rejoins) and once closed. The message names the state, the member and
 * how many partitions it holds.
 *
 * <pre>{@code
 * healthChecks.register("ringwork-conductors", new RebalancerHealthCheck(rebalancer));
 * }</pre>
 *
 * <p>Needs {@code io.dropwizard.metrics:metrics-healthchecks} on the class path (an optional
 * dependency of this module).
 */
public final class RebalancerHealthCheck extends HealthCheck {

  private final Rebalancer rebalancer;

  /** Checks {@code rebalancer}. */
  public RebalancerHealthCheck(Rebalancer rebalancer) {
    this.rebalancer = Objects.requireNonNull(rebalancer, "rebalancer");
  }

  @Override
  protected Result check() {
    Rebalancer.State state = rebalancer.state();
    String message =
        "rebalancer "
            + rebalancer.memberId()
            + " is "
            + state
            + ", holding "
            + rebalancer.ownedPartitions().size()
            + " partitions";
    return switch (state) {
      case STABLE, REBALANCING, DRAINING -> Result.healthy(message);
      case LATENT, SUSPENDED, LOST, CLOSED -> Result.unhealthy(message);
    };
  }
}
