package io.ringwork.membership.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The one rule for running a user's listener on one of Ringwork's threads. */
final class ListenerGuardTest {

  private final ListenerGuard guard =
      new ListenerGuard(LoggerFactory.getLogger(ListenerGuardTest.class), "test");

  @Test
  void whatAListenerThrows_isContained_butAVirtualMachineErrorIsNot() {
    AtomicInteger ran = new AtomicInteger();
    guard.run(
        "throws",
        () -> {
          ran.incrementAndGet();
          throw new IllegalStateException("listener bug");
        });
    guard.run(
        "asserts",
        () -> {
          ran.incrementAndGet();
          throw new AssertionError("an Error of the listener's own");
        });
    assertThat(ran).hasValue(2);
    assertThatThrownBy(
            () ->
                guard.run(
                    "overflows",
                    () -> {
                      throw new StackOverflowError();
                    }))
        .isInstanceOf(StackOverflowError.class);
  }

  @Test
  void anInterruptTheListenerLeaves_isCleared() {
    guard.run("interrupts", () -> Thread.currentThread().interrupt());
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }
}
