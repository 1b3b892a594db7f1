package io.ringwork.spring;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code ringwork} health indicator on Spring Boot 4, whose health API moved to its own module
 * ({@code /actuator/health/ringwork}).
 */
final class RingworkBoot4HealthIndicator implements HealthIndicator {

  private final RingworkHealth health;

  RingworkBoot4HealthIndicator(RingworkHealth health) {
    this.health = health;
  }

  @Override
  public Health health() {
    return (health.up() ? Health.up() : Health.down()).withDetails(health.details()).build();
  }
}
