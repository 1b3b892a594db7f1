package io.ringwork.examples;

import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.rebalancer.Rebalancer;
import io.ringwork.rebalancer.RebalancerBuilder;
import io.ringwork.ring.Member;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A conductor-style service, the way Ironic's conductors own bare-metal nodes: each instance joins
 * a group, is given a share of the resources ({@code node-0} ... {@code node-N}), and keeps
 * processing the ones it holds a grant for. Every write to the database is fenced: it carries the
 * grant's token and only lands if no newer owner has written the row ({@code token <= ?}), so a
 * paused or partitioned instance that still believes it owns a node cannot overwrite its successor.
 * SIGTERM (or {@link #close()}) drains: the instance hands its nodes over, then leaves.
 *
 * <pre>
 * java -cp ... io.ringwork.examples.ConductorService --embedded c-1        # first instance
 * java -cp ... io.ringwork.examples.ConductorService 127.0.0.1:PORT c-2    # more, same machine
 * </pre>
 */
public final class ConductorService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConductorService.class);

  /** The resources every instance shares. */
  public static final int NODES = 1000;

  private final Rebalancer rebalancer;
  private final Connection db;
  private final Thread worker;
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private volatile boolean running = true;

  /**
   * Starts an instance: joins {@code group} as {@code id} through {@code zookeeper} (or an embedded
   * server when it is null) and writes to the database at {@code jdbcUrl}.
   *
   * @throws SQLException if the database cannot be opened
   * @throws IllegalStateException if the rebalancer cannot start (see {@link Rebalancer#start()})
   */
  public ConductorService(String zookeeper, String group, String id, String jdbcUrl)
      throws SQLException {
    this(
        b -> {
          if (zookeeper == null) {
            b.embedded(null);
          } else {
            b.connectString(zookeeper);
          }
        },
        group,
        id,
        jdbcUrl);
  }

  /**
   * Starts an instance on the service's own started Curator {@code client}, which it does not close
   * (a test holds the client to expire its session).
   *
   * @throws SQLException if the database cannot be opened
   * @throws IllegalStateException if the rebalancer cannot start (see {@link Rebalancer#start()})
   */
  public ConductorService(CuratorFramework client, String group, String id, String jdbcUrl)
      throws SQLException {
    this(b -> b.curator(client), group, id, jdbcUrl);
  }

  private ConductorService(
      Consumer<RebalancerBuilder> zookeeper, String group, String id, String jdbcUrl)
      throws SQLException {
    this.db = DriverManager.getConnection(jdbcUrl);
    createTable(db);
    RebalancerBuilder b =
        Rebalancer.newBuilder()
            .group(group)
            .member(Member.of(id))
            .partitions(256)
            .sessionTimeout(Duration.ofSeconds(5))
            .listener(
                new OwnershipListener() {
                  @Override
                  public void onAssigned(List<Grant> grants) {
                    log.info("{} now owns {} more partitions", id, grants.size());
                  }

                  @Override
                  public void onRevoked(Set<Integer> partitions) {
                    // The worker loop checks grant() before every write, so stopping is implicit;
                    // a service with long jobs would finish or abort them here.
                    log.info("{} hands over {} partitions", id, partitions.size());
                  }

                  @Override
                  public void onLost(Set<Integer> partitions) {
                    log.warn("{} lost its session and {} partitions", id, partitions.size());
                  }
                });
    zookeeper.accept(b);
    this.rebalancer = b.build();
    rebalancer.start();
    this.worker = new Thread(this::work, "conductor-" + id);
    worker.start();
  }

  /** The rebalancer, for its state and its connect string. */
  public Rebalancer rebalancer() {
    return rebalancer;
  }

  /** Writes that landed. */
  public long written() {
    return written.get();
  }

  /** Writes the database refused because a newer owner had written the row. */
  public long rejected() {
    return rejected.get();
  }

  private void work() {
    try (PreparedStatement update =
        db.prepareStatement(
            "UPDATE resources SET owner = ?, token = ?, processed = processed + 1"
                + " WHERE name = ? AND token <= ?")) {
      while (running) {
        for (int i = 0; i < NODES && running; i++) {
          String node = "node-" + i;
          Optional<Grant> grant = rebalancer.grant(node);
          if (grant.isEmpty()) {
            continue;
          }
          update.setString(1, rebalancer.memberId());
          update.setLong(2, grant.get().token());
          update.setString(3, node);
          update.setLong(4, grant.get().token());
          if (update.executeUpdate() == 1) {
            written.incrementAndGet();
          } else {
            rejected.incrementAndGet();
          }
        }
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException e) {
      log.error("database write failed; stopping the worker", e);
    }
  }

  /** Creates the table and its rows once; every instance may call it. */
  static void createTable(Connection db) throws SQLException {
    try (Statement s = db.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS resources (name VARCHAR(64) PRIMARY KEY, owner VARCHAR(64),"
              + " token BIGINT NOT NULL DEFAULT 0, processed BIGINT NOT NULL DEFAULT 0)");
      s.execute(
          "MERGE INTO resources (name) KEY (name) SELECT 'node-' || X FROM SYSTEM_RANGE(0, "
              + (NODES - 1)
              + ")");
    }
  }

  /** Drains (hands every node over, up to 30 s), then stops. Idempotent. */
  @Override
  public void close() {
    try {
      rebalancer.drain(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IllegalStateException e) {
      rebalancer.close();
    }
    running = false;
    try {
      worker.join(5000);
      db.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException e) {
      log.debug("closing the database failed", e);
    }
  }

  /**
   * Runs one instance until SIGTERM: {@code ConductorService (--embedded | HOST:PORT) ID [JDBC]}.
   */
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: ConductorService (--embedded | HOST:PORT) ID [JDBC_URL]");
      System.exit(2);
    }
    String zookeeper = args[0].equals("--embedded") ? null : args[0];
    String jdbc = args.length > 2 ? args[2] : "jdbc:h2:./conductors;AUTO_SERVER=TRUE";
    ConductorService service = new ConductorService(zookeeper, "conductors", args[1], jdbc);
    System.out.println(
        "conductor " + args[1] + " joined through " + service.rebalancer().connectString());
    Runtime.getRuntime().addShutdownHook(new Thread(service::close, "conductor-drain"));
    Thread.currentThread().join();
  }
}
