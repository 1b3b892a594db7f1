package io.ringwork.spring;

import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/** The {@code ringwork} health indicator on Spring Boot 3 ({@code /actuator/health/ringwork}). */
final class RingworkHealthIndicator implements HealthIndicator {

  private final RingworkHealth health;

  RingworkHealthIndicator(RingworkHealth health) {
    this.health = health;
  }

  @Override
  public Health health() {
    return (health.up() ? Health.up() : Health.down()).withDetails(health.details()).build();
  }
}
