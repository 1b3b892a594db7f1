package io.ringwork.examples.spring;

import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.spring.RingworkEvent;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A conductor as a Spring Boot service: the starter makes it a member of {@code ringwork.group};
 * every second it works on each of 1,000 nodes ({@code node-0} ... {@code node-999}) that it holds
 * a grant for, with the grant's fencing token. {@code GET /nodes} shows what it did; Actuator shows
 * {@code /actuator/health/ringwork}, readiness and {@code ringwork.*} metrics. SIGTERM drains.
 *
 * <pre>
 * RINGWORK_CONNECT=127.0.0.1:2181 RINGWORK_GROUP=conductors RINGWORK_ID=c-1 \
 *   java -cp ... io.ringwork.examples.spring.SpringConductor
 * </pre>
 */
@SpringBootApplication
@EnableScheduling
@RestController
public class SpringConductor {

  private static final Logger log = LoggerFactory.getLogger(SpringConductor.class);
  private static final int NODES = 1000;

  private final Rebalancer rebalancer;
  private final Map<String, Long> lastToken = new ConcurrentHashMap<>();
  private final AtomicLong actions = new AtomicLong();

  /** The service around the member the starter configured. */
  public SpringConductor(Rebalancer rebalancer) {
    this.rebalancer = rebalancer;
  }

  /** Runs the service. */
  public static void main(String[] args) {
    SpringApplication.run(SpringConductor.class, args);
  }

  /** Acts on every node this member may act on now, each with its grant's token. */
  @Scheduled(fixedDelay = 1000)
  public void work() {
    if (rebalancer.state() == Rebalancer.State.LATENT) {
      return;
    }
    for (int i = 0; i < NODES; i++) {
      String node = "node-" + i;
      // A real conductor would write with the token: UPDATE ... WHERE token <= ?
      rebalancer.grant(node).ifPresent(g -> lastToken.merge(node, g.token(), Math::max));
    }
    actions.incrementAndGet();
  }

  /** Logs the partitions gained; work starts on the next round. */
  @EventListener
  public void on(RingworkEvent.Assigned e) {
    log.info("{} now owns {} more partitions", e.rebalancer().memberId(), e.grants().size());
  }

  /** Runs before the handoff goes on: a real service finishes its work on these here. */
  @EventListener
  public void on(RingworkEvent.Revoked e) {
    log.info("{} hands over {} partitions", e.rebalancer().memberId(), e.partitions().size());
  }

  /** What this instance holds and has done. */
  @GetMapping("/nodes")
  public Map<String, Object> nodes() {
    long held =
        IntStream.range(0, NODES).filter(i -> rebalancer.grant("node-" + i).isPresent()).count();
    return Map.of(
        "member", rebalancer.memberId(),
        "state", rebalancer.state().name(),
        "partitions", rebalancer.ownedPartitions().size(),
        "nodesHeld", held,
        "rounds", actions.get());
  }
}
