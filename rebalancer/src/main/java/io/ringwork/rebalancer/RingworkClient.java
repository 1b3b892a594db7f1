package io.ringwork.rebalancer;

import io.ringwork.membership.ConnectionDefaults;
import io.ringwork.membership.Lifecycle;
import io.ringwork.membership.SessionLease;
import io.ringwork.membership.internal.ConnectionSettings;
import io.ringwork.membership.internal.DaemonThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ZooKeeper session for several rings: a process that joins several groups (Ironic's conductor
 * group × hardware type) builds one {@link Rebalancer} per group from one client, and they all
 * share its session, its connection (ZooKeeper's one I/O thread and one event thread) and its
 * {@link SessionLease}.
 *
 * <pre>{@code
 * try (RingworkClient zk = RingworkClient.newBuilder().connectString("zk1:2181").build()) {
 *   zk.start();
 *   Rebalancer ipmi = zk.newRebalancer().group("cg1-ipmi").member(self).listener(a).build();
 *   Rebalancer redfish = zk.newRebalancer().group("cg1-redfish").member(self).listener(b).build();
 *   ipmi.start();
 *   redfish.start();
 *   ...
 * } // closes both rings, then the session
 * }</pre>
 *
 * <h2>Design</h2>
 *
 * <p>Each ring is an ordinary rebalancer on a caller's client ({@link
 * RebalancerBuilder#curator(CuratorFramework)}): it joins, acknowledges, locks and leaves in that
 * session without closing it, and deletes only nodes that session owns. Nothing about exclusivity
 * is shared or relaxed: every ring reads the one {@link SessionLease} of the session (refcounted
 * per client, held here for the client's life so that a ring built later needs no new lease), so
 * when the session is lost every ring's grants end at the same instant, each ring reports {@code
 * onLost}, and each rejoins as a new incarnation in the client's next session, through its own
 * barrier and with new tokens. Closing one ring leaves the others and the session as they are;
 * closing the client closes every ring it built (each hands over as {@link Rebalancer#close()}
 * does), waits until each has finished, then releases the lease and closes the client if it made
 * it.
 *
 * <p>What stays per ring: its event thread and its listener thread (and its membership's), so that
 * a slow {@code onRevoked} in one ring never holds up another ring's handoff or its reaction to a
 * suspension. One ring per group per client: two members of one group on one session would be one
 * member to ZooKeeper (a join never adopts a node of its own session that it did not create).
 */
public final class RingworkClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RingworkClient.class);

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final int instance = INSTANCES.incrementAndGet();
  private final CuratorFramework client;
  private final boolean ownsClient;
  private final ExecutorService runSafe;
  private final Duration connectTimeout;
  private final Lifecycle lifecycle = new Lifecycle();
  private final List<Ring> rings = new ArrayList<>(); // guarded by itself
  private volatile SessionLease lease;

  /** A ring built from this client, by its group's path. */
  private record Ring(String groupPath, Rebalancer rebalancer) {}

  private RingworkClient(Builder b) {
    ConnectionSettings c = b.connection;
    this.ownsClient = c.curator() == null;
    if (ownsClient) {
      // Curator 5.9 never shuts down the executor of runSafe() it makes itself (apache/curator
      // GH-1277): give it one that close() stops, so that closing leaves no thread behind.
      String name = "ringwork-client-" + instance + "-curator-safe";
      this.runSafe = Executors.newSingleThreadExecutor(DaemonThreads.named(name));
      this.client =
          ConnectionDefaults.newClientBuilder(c.connectString(), c.sessionTimeout())
              .runSafeService(runSafe)
              .build();
    } else {
      this.runSafe = null;
      this.client = c.curator();
    }
    this.connectTimeout = c.connectTimeout();
  }

  /** Returns a new builder. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * Connects: starts the client (if it is not started) and waits for a session, up to the connect
   * timeout.
   *
   * @throws IllegalStateException if already started or closed, or if ZooKeeper cannot be reached
   *     in time (naming the connect string)
   */
  public void start() {
    lifecycle.start();
    try {
      if (client.getState() == CuratorFrameworkState.LATENT) {
        client.start();
      }
      if (!client.blockUntilConnected((int) connectTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(
            "could not connect to ZooKeeper at "
                + client.getZookeeperClient().getCurrentConnectionString()
                + " within "
                + connectTimeout.toMillis()
                + " ms");
      }
      lease = SessionLease.acquire(client);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new IllegalStateException("interrupted while connecting", e);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Returns a builder for a ring on this client's session: set its group, member, listener and
   * placement as for {@link Rebalancer#newBuilder()}; its ZooKeeper source is this client (so
   * {@code curator}, {@code connectString}, {@code embedded} and {@code sessionTimeout} do not
   * apply). Its {@code build()} refuses a group that an open ring of this client already joined.
   *
   * @throws IllegalStateException if this client is not started, or closed
   */
  public RebalancerBuilder newRebalancer() {
    requireOpen();
    return new RebalancerBuilder().ringOf(this);
  }

  /**
   * Returns the rings built from this client whose close has not finished (including one closing in
   * the background after a close from its own callback), in the order they were built.
   */
  public List<Rebalancer> rebalancers() {
    synchronized (rings) {
      prune();
      List<Rebalancer> open = new ArrayList<>(rings.size());
      rings.forEach(r -> open.add(r.rebalancer()));
      return List.copyOf(open);
    }
  }

  /**
   * Returns the Curator client every ring shares; do not close it. Not public: an application that
   * needs the client (for other recipes in the same session, or to expire the session in a test)
   * gives this object its own with {@link Builder#curator(CuratorFramework)}.
   */
  CuratorFramework curator() {
    return client;
  }

  /** Returns the ZooKeeper session every ring is in now, 0 without one. */
  public long sessionId() {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return 0;
    }
  }

  /**
   * Closes every ring built from this client (each hands its partitions over as {@link
   * Rebalancer#close()} does) and waits until each has finished closing (its guards in flight
   * closed, {@code onRevoked} run, its acknowledgement withdrawn, the group left; at most each
   * ring's close budget, about three revoke deadlines and 15 s), then releases the session lease
   * and closes the client if this object made it: ending the session earlier would delete a ring's
   * acknowledgement and member node while its work is still in flight, and let a successor in.
   * Idempotent; throws nothing.
   *
   * <p>Called from a ring's listener callback (or its event thread), it cannot wait there, since
   * that ring's {@code onRevoked} (and its close) needs the thread: from a callback it stops that
   * ring's grants at once (as {@link Rebalancer#close()} from a callback does); either way it
   * returns at once and closes the rings and then the session on a background thread ({@code
   * ringwork-client-<n>-close}), with the same waits.
   */
  @Override
  public void close() {
    if (!lifecycle.close()) {
      return;
    }
    List<Ring> all;
    synchronized (rings) {
      all = new ArrayList<>(rings);
      rings.clear();
    }
    Ring caller = null;
    for (Ring r : all) {
      if (r.rebalancer().isOwnThread()) {
        caller = r;
      }
    }
    if (caller == null) {
      closeRingsThenSession(all);
      return;
    }
    if (caller.rebalancer().isListenerThread()) {
      closeRing(caller); // from its callback: stops its grants now, finishes in the background
    }
    DaemonThreads.start("ringwork-client-" + instance + "-close", () -> closeRingsThenSession(all));
  }

  private void closeRingsThenSession(List<Ring> all) {
    for (Ring r : all) {
      closeRing(r);
    }
    // A ring closed from its own callback (now or before) is still closing in the background.
    boolean interrupted = false;
    for (Ring r : all) {
      Duration budget = r.rebalancer().closeBudget();
      try {
        r.rebalancer().shutdownFinished().get(budget.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
        log.warn("interrupted while ring {} was closing; ending the session", r.groupPath());
        break;
      } catch (ExecutionException | TimeoutException e) {
        log.warn(
            "ring {} did not finish closing within {} ms; ending the session anyway",
            r.groupPath(),
            budget.toMillis());
      }
    }
    SessionLease l = lease;
    if (l != null) {
      lease = null;
      l.release();
    }
    if (ownsClient) {
      client.close();
      runSafe.shutdown();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeRing(Ring r) {
    try {
      r.rebalancer().close();
    } catch (RuntimeException e) {
      log.warn("ring {} did not close cleanly", r.groupPath(), e);
    }
  }

  /**
   * Builds a ring of {@code groupPath} and keeps it, unless an open ring of this client is in that
   * group already. Called by {@link RebalancerBuilder#build()}.
   */
  Rebalancer adopt(String groupPath, Supplier<Rebalancer> build) {
    synchronized (rings) {
      requireOpen();
      prune();
      for (Ring r : rings) {
        if (r.groupPath().equals(groupPath)) {
          throw new IllegalStateException(
              "this client already has an open ring in "
                  + groupPath
                  + " (member '"
                  + r.rebalancer().memberId()
                  + "'); one ring per group per session: close it first");
        }
      }
      Rebalancer built = build.get();
      rings.add(new Ring(groupPath, built));
      return built;
    }
  }

  /**
   * Forgets the rings whose close has fully finished (not merely begun: a ring closed from its own
   * callback reports CLOSED while it is still closing its locks and leaving the group, and {@link
   * #close()} must still wait for it, and a new ring of its group must not join before it left).
   */
  private void prune() {
    rings.removeIf(r -> r.rebalancer().shutdownFinished().isDone());
  }

  private void requireOpen() {
    if (lifecycle.state() != Lifecycle.State.STARTED) {
      throw new IllegalStateException(
          "RingworkClient is "
              + lifecycle.state()
              + ": rings are built after start() and before close()");
    }
  }

  /**
   * Builds a {@link RingworkClient}. Each setter may be called once; the ZooKeeper source is either
   * a connect string (the client makes and closes its own Curator client) or the caller's client.
   */
  public static final class Builder {
    private final ConnectionSettings connection = new ConnectionSettings();

    private Builder() {}

    /**
     * Connects to a ZooKeeper ensemble, for example {@code "zk1:2181,zk2:2181,zk3:2181"}.
     *
     * @throws IllegalArgumentException if it is empty
     * @throws IllegalStateException if a ZooKeeper source was already set
     */
    public Builder connectString(String hosts) {
      connection.connectString(hosts);
      return this;
    }

    /**
     * Uses the caller's Curator client, which the caller closes (after this client).
     *
     * @throws IllegalStateException if a ZooKeeper source was already set
     */
    public Builder curator(CuratorFramework client) {
      connection.curator(client);
      return this;
    }

    /**
     * Sets the session timeout of the client this object makes; {@link
     * RebalancerBuilder#DEFAULT_SESSION_TIMEOUT} by default.
     *
     * @throws IllegalArgumentException if it is not positive
     */
    public Builder sessionTimeout(Duration timeout) {
      connection.sessionTimeout(timeout);
      return this;
    }

    /**
     * Sets how long {@link RingworkClient#start()} waits for a session; twice the session timeout
     * by default.
     *
     * @throws IllegalArgumentException if it is not positive
     */
    public Builder connectTimeout(Duration timeout) {
      connection.connectTimeout(timeout);
      return this;
    }

    /**
     * Builds the client; {@link RingworkClient#start()} connects.
     *
     * @throws IllegalStateException if no ZooKeeper source is set, or a session timeout is set for
     *     the caller's client (whose timeout is its own)
     */
    public RingworkClient build() {
      if (!connection.hasSource()) {
        throw new IllegalStateException(
            "a ZooKeeper source is required: connectString(...) or curator(...)");
      }
      if (connection.curator() != null && connection.sessionTimeoutSet()) {
        throw new IllegalStateException(
            "sessionTimeout applies to a client RingworkClient makes, not to the caller's");
      }
      return new RingworkClient(this);
    }
  }
}
