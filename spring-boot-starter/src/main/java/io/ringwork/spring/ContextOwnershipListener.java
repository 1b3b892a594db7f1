package io.ringwork.spring;

import io.ringwork.membership.internal.ListenerGuard;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.internal.RebalancerInternals;
import io.ringwork.ring.Assignment;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;

/**
 * The one listener the starter gives the rebalancer: it publishes each change as a {@link
 * RingworkEvent}, calls every {@link OwnershipListener} bean of the context in order (one that
 * throws is logged and the others still run), and turns readiness to {@code REFUSING_TRAFFIC} while
 * the member is suspended or lost and back to {@code ACCEPTING_TRAFFIC} once it is active again.
 *
 * <p>Readiness refuses as soon as Curator reports the connection SUSPENDED or LOST, on Curator's
 * own event thread, so that it never waits behind the rebalancer's work; it accepts again only when
 * the member is active (resumed, or given an assignment) and connected, and only after this
 * listener refused it, so that it never announces an application that Spring has not yet declared
 * ready.
 */
final class ContextOwnershipListener implements OwnershipListener {

  private static final Logger log = LoggerFactory.getLogger(ContextOwnershipListener.class);

  private final ApplicationEventPublisher publisher;
  private final Supplier<List<OwnershipListener>> beans;
  private volatile Rebalancer rebalancer;
  private final AtomicBoolean refusing = new AtomicBoolean();
  // Replaced by one that names the member once the rebalancer is built.
  private volatile ListenerGuard guard = new ListenerGuard(log, "a Ringwork rebalancer");

  ContextOwnershipListener(
      ApplicationEventPublisher publisher, Supplier<List<OwnershipListener>> beans) {
    this.publisher = publisher;
    this.beans = beans;
  }

  /** Names the rebalancer that events come from, and follows its connection; once it is built. */
  void source(Rebalancer source) {
    this.rebalancer = source;
    this.guard = new ListenerGuard(log, "member " + source.memberId());
    RebalancerInternals.curator(source)
        .getConnectionStateListenable()
        .addListener(
            (client, state) -> {
              if (state == ConnectionState.SUSPENDED || state == ConnectionState.LOST) {
                refuse();
              }
            });
  }

  @Override
  public void onAssigned(List<Grant> grants) {
    accept();
    publish(new RingworkEvent.Assigned(rebalancer, grants));
    each("onAssigned", l -> l.onAssigned(grants));
  }

  @Override
  public void onRevoked(Set<Integer> partitions) {
    publish(new RingworkEvent.Revoked(rebalancer, partitions));
    each("onRevoked", l -> l.onRevoked(partitions));
  }

  @Override
  public void onLost(Set<Integer> partitions) {
    refuse();
    publish(new RingworkEvent.Lost(rebalancer, partitions));
    each("onLost", l -> l.onLost(partitions));
  }

  @Override
  public void onSuspended() {
    refuse();
    publish(new RingworkEvent.Suspended(rebalancer));
    each("onSuspended", OwnershipListener::onSuspended);
  }

  @Override
  public void onResumed() {
    accept();
    publish(new RingworkEvent.Resumed(rebalancer));
    each("onResumed", OwnershipListener::onResumed);
  }

  @Override
  public void onAssignment(Assignment assignment) {
    if (!rebalancer.isSuspended()) {
      accept(); // a rejoined member that is given no partitions still serves
    }
    each("onAssignment", l -> l.onAssignment(assignment));
  }

  @Override
  public void onStandby(Set<Integer> partitions) {
    publish(new RingworkEvent.Standby(rebalancer, partitions));
    each("onStandby", l -> l.onStandby(partitions));
  }

  @Override
  public void onStandbyRevoked(Set<Integer> partitions) {
    publish(new RingworkEvent.StandbyRevoked(rebalancer, partitions));
    each("onStandbyRevoked", l -> l.onStandbyRevoked(partitions));
  }

  private void refuse() {
    if (refusing.compareAndSet(false, true)) {
      AvailabilityChangeEvent.publish(publisher, rebalancer, ReadinessState.REFUSING_TRAFFIC);
    }
  }

  private void accept() {
    if (RebalancerInternals.curator(rebalancer).getZookeeperClient().isConnected()
        && refusing.compareAndSet(true, false)) {
      AvailabilityChangeEvent.publish(publisher, rebalancer, ReadinessState.ACCEPTING_TRAFFIC);
    }
  }

  private void publish(RingworkEvent event) {
    // The application's listeners of the event; the OwnershipListener beans still run after them.
    guard.run(
        "a listener of " + event.getClass().getSimpleName(), () -> publisher.publishEvent(event));
  }

  private void each(String callback, Consumer<OwnershipListener> call) {
    for (OwnershipListener l : beans.get()) {
      // One bean that throws does not stop the others.
      guard.run(l.getClass().getName() + "." + callback, () -> call.accept(l));
    }
  }
}
