package io.ringwork.spring;

import java.lang.reflect.InvocationTargetException;
import java.util.Map;
import org.springframework.context.ApplicationContext;

/**
 * The {@code ringwork} health indicator's answer, read the same way on both Boot lines (their
 * health types live in different packages, so the suite reads them reflectively).
 */
record HealthOf(String status, Map<String, Object> details) {

  /**
   * Returns the status Actuator's health endpoint gives for {@code /actuator/health/ringwork}, or
   * null when it has no such path.
   */
  static String endpointStatus(ApplicationContext context) {
    Object endpoint = context.getBean("healthEndpoint");
    try {
      Object health =
          endpoint
              .getClass()
              .getMethod("healthForPath", String[].class)
              .invoke(endpoint, (Object) new String[] {"ringwork"});
      if (health == null) {
        return null;
      }
      Object status = health.getClass().getMethod("getStatus").invoke(health);
      return (String) status.getClass().getMethod("getCode").invoke(status);
    } catch (NoSuchMethodException | IllegalAccessException | InvocationTargetException e) {
      throw new AssertionError("cannot read " + endpoint.getClass(), e);
    }
  }

  @SuppressWarnings("unchecked")
  static HealthOf read(ApplicationContext context) {
    Object indicator = context.getBean("ringworkHealthIndicator");
    try {
      Object health = indicator.getClass().getMethod("health").invoke(indicator);
      Object status = health.getClass().getMethod("getStatus").invoke(health);
      String code = (String) status.getClass().getMethod("getCode").invoke(status);
      Map<String, Object> details =
          (Map<String, Object>) health.getClass().getMethod("getDetails").invoke(health);
      return new HealthOf(code, details);
    } catch (NoSuchMethodException | IllegalAccessException | InvocationTargetException e) {
      throw new AssertionError("cannot read the health of " + indicator.getClass(), e);
    }
  }
}
