package io.ringwork.spring;

import java.lang.reflect.InvocationTargetException;
import java.util.Map;
import org.springframework.context.ApplicationContext;

/**
 * The {@code ringwork} health indicator's answer, read the same way on both Boot lines (their
 * health types live in different packages, so the suite reads them reflectively).
 */
record HealthOf(String status, Map<String, Object> details) {

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
