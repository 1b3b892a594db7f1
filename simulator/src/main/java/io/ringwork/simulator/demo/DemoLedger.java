package io.ringwork.simulator.demo;

import io.ringwork.simulator.cli.InputException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's store: a real SQL table of resources whose every write is fenced, the pattern a
 * service copies for its own store ({@code UPDATE resources ... WHERE id = ? AND token <= ?}): a
 * write with a lower token than the row's is rejected, so a paused or stale holder cannot overwrite
 * its successor. One connection per writer thread.
 *
 * <p>It also counts, in the same statement, the writes it accepted although they were stale. Each
 * row keeps the highest token issued for its key ({@code issued}: by a lock, or by a guard whose
 * token is above its partition's grant) and for its partition ({@code part_issued}: raised for
 * every key of a partition when a worker sees a new grant of it). An accepted write whose token is
 * below either adds one to the row's {@code stale}, except that a lock holder's write is compared
 * with its key's tokens only: a lock queued before a grant of its partition has a lower token than
 * that grant and still rightly holds its key, since the new owner does not act on a key while a
 * lock on it is queued, and resumes above the lock's token. The fence only sees tokens that were
 * written, so a superseded holder that writes before its successor's first write to a row gets
 * through; this is the count of those ({@link io.ringwork.test.FencedStore} is the same rule in
 * memory, per resource).
 */
final class DemoLedger {

  private final String url;
  final AtomicLong accepted = new AtomicLong();
  final AtomicLong rejected = new AtomicLong();

  private DemoLedger(String url) {
    this.url = url;
  }

  /** Uses a ledger another process created. */
  static DemoLedger attach(String url) {
    return new DemoLedger(url);
  }

  /** Creates the table, replacing any, with one unprocessed row per key of each partition. */
  static DemoLedger create(String url, Map<Integer, List<String>> keysByPartition)
      throws SQLException {
    DemoLedger ledger = new DemoLedger(url);
    ledger.init(keysByPartition);
    return ledger;
  }

  private void init(Map<Integer, List<String>> keysByPartition) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      Set<String> columns = columns(c);
      if (!columns.isEmpty() && !columns.equals(COLUMNS)) {
        // --jdbc may name a database of the user's: never replace a table that is not ours.
        throw new InputException(
            "--jdbc: "
                + url
                + " already has a table 'resources' with columns "
                + columns
                + ", not the demo's "
                + COLUMNS
                + "; refusing to replace it (use another database or schema)");
      }
      s.execute("DROP TABLE IF EXISTS resources");
      s.execute(
          "CREATE TABLE resources (id VARCHAR(200) PRIMARY KEY, owner VARCHAR(100),"
              + " token BIGINT NOT NULL, processed BIGINT NOT NULL, part INT NOT NULL,"
              + " issued BIGINT NOT NULL, part_issued BIGINT NOT NULL, stale BIGINT NOT NULL)");
      s.execute("CREATE INDEX resources_part ON resources (part)");
      c.setAutoCommit(false);
      try (PreparedStatement ins =
          c.prepareStatement("INSERT INTO resources VALUES (?, NULL, 0, 0, ?, 0, 0, 0)")) {
        for (Map.Entry<Integer, List<String>> e : keysByPartition.entrySet()) {
          for (String k : e.getValue()) {
            ins.setString(1, k);
            ins.setInt(2, e.getKey());
            ins.addBatch();
          }
        }
        ins.executeBatch();
      }
      c.commit();
    }
  }

  private static final Set<String> COLUMNS =
      Set.of("id", "owner", "token", "processed", "part", "issued", "part_issued", "stale");

  /** The columns of an existing {@code resources} table, lower case; empty when there is none. */
  private static Set<String> columns(Connection c) throws SQLException {
    Set<String> out = new TreeSet<>();
    for (String name : List.of("resources", "RESOURCES")) {
      try (ResultSet r = c.getMetaData().getColumns(null, null, name, null)) {
        while (r.next()) {
          out.add(r.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
        }
      }
    }
    return out;
  }

  /** A writer's connection and statement. */
  final class Writer implements AutoCloseable {
    private final Connection c;
    private final PreparedStatement update;
    private final PreparedStatement issuedKey;
    private final PreparedStatement issuedPartition;

    Writer() throws SQLException {
      c = DriverManager.getConnection(url);
      update =
          c.prepareStatement(
              "UPDATE resources SET owner = ?, token = ?, processed = processed + 1,"
                  + " stale = stale + CASE WHEN ? < issued OR (? AND ? < part_issued)"
                  + " THEN 1 ELSE 0 END"
                  + " WHERE id = ? AND token <= ?");
      issuedKey = c.prepareStatement("UPDATE resources SET issued = ? WHERE id = ? AND issued < ?");
      issuedPartition =
          c.prepareStatement(
              "UPDATE resources SET part_issued = ? WHERE part = ? AND part_issued < ?");
    }

    /**
     * Writes a key with a token, from the partition owner's fast path or under a lock; returns
     * whether the store took it.
     */
    boolean write(String key, String owner, long token, boolean fastPath) throws SQLException {
      update.setString(1, owner);
      update.setLong(2, token);
      update.setLong(3, token);
      update.setBoolean(4, fastPath);
      update.setLong(5, token);
      update.setString(6, key);
      update.setLong(7, token);
      boolean ok = update.executeUpdate() == 1;
      (ok ? accepted : rejected).incrementAndGet();
      return ok;
    }

    /** Records that a guard or lock on a key was given a token. */
    void issuedKey(String key, long token) throws SQLException {
      issuedKey.setLong(1, token);
      issuedKey.setString(2, key);
      issuedKey.setLong(3, token);
      issuedKey.executeUpdate();
    }

    /** Records that a grant of a partition was given a token: it is issued for all its keys. */
    void issuedPartition(int partition, long token) throws SQLException {
      issuedPartition.setLong(1, token);
      issuedPartition.setInt(2, partition);
      issuedPartition.setLong(3, token);
      issuedPartition.executeUpdate();
    }

    @Override
    public void close() throws SQLException {
      c.close();
    }
  }

  /**
   * Raises a row's fence to the highest token issued for it (its key's or its partition's), as the
   * successor's claim at takeover; changes nothing if the row's token is already that high.
   */
  void claimIssued(String key) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement q =
            c.prepareStatement(
                "UPDATE resources SET token = GREATEST(issued, part_issued)"
                    + " WHERE id = ? AND token < GREATEST(issued, part_issued)")) {
      q.setString(1, key);
      q.executeUpdate();
    }
  }

  /** Returns how many resources were never processed. */
  long unprocessed() throws SQLException {
    return count("SELECT COUNT(*) FROM resources WHERE processed = 0");
  }

  /** Returns how many accepted writes had a token below one already issued for their row. */
  long staleAccepted() throws SQLException {
    return count("SELECT COALESCE(SUM(stale), 0) FROM resources");
  }

  /** Describes up to five rows that accepted a stale write. */
  List<String> staleRows() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT id, owner, token, GREATEST(issued, part_issued), stale FROM resources"
                    + " WHERE stale > 0"
                    + " ORDER BY id LIMIT 5")) {
      while (r.next()) {
        out.add(
            String.format(
                "%s: %d stale write(s) accepted; now owner %s, token %d, highest issued %d",
                r.getString(1), r.getLong(5), r.getString(2), r.getLong(3), r.getLong(4)));
      }
    }
    return out;
  }

  /** Returns up to {@code limit} keys never processed, in key order (for a failed verdict). */
  List<String> unprocessedKeys(int limit) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement q =
            c.prepareStatement("SELECT id FROM resources WHERE processed = 0 ORDER BY id")) {
      q.setMaxRows(limit);
      List<String> keys = new ArrayList<>();
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) {
          keys.add(r.getString(1));
        }
      }
      return keys;
    }
  }

  /** Returns how many writes the table took, from every process. */
  long writes() throws SQLException {
    return count("SELECT COALESCE(SUM(processed), 0) FROM resources");
  }

  /** Returns the token a key's row was last written with. */
  long token(String key) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement q = c.prepareStatement("SELECT token FROM resources WHERE id = ?")) {
      q.setString(1, key);
      try (ResultSet r = q.executeQuery()) {
        return r.next() ? r.getLong(1) : 0;
      }
    }
  }

  /** Describes a key's row: its owner and token. */
  String row(String key) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement q =
            c.prepareStatement(
                "SELECT owner, token, processed, GREATEST(issued, part_issued) FROM resources"
                    + " WHERE id = ?")) {
      q.setString(1, key);
      try (ResultSet r = q.executeQuery()) {
        return r.next()
            ? "owner "
                + r.getString(1)
                + ", token "
                + r.getLong(2)
                + ", processed "
                + r.getLong(3)
                + ", highest issued "
                + r.getLong(4)
            : "missing";
      }
    }
  }

  private long count(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  /**
   * Refuses a ledger URL the demo cannot use before anything starts: one no driver takes or that
   * does not connect, and an in-memory H2 database without {@code DB_CLOSE_DELAY=-1}, which
   * vanishes with each connection the ledger closes (the demo would run and fail at the end).
   *
   * @throws InputException naming the URL and what is wrong
   */
  static void check(String url) {
    if (url.startsWith("jdbc:h2:mem:")
        && !url.toUpperCase(Locale.ROOT).contains("DB_CLOSE_DELAY=-1")) {
      throw new InputException(
          "--jdbc "
              + url
              + ": an in-memory H2 database is dropped when its last connection closes, and the"
              + " ledger closes each one; add ;DB_CLOSE_DELAY=-1, or leave --jdbc out for the"
              + " default in-memory ledger");
    }
    DriverManager.setLoginTimeout(10);
    try (Connection c = DriverManager.getConnection(url)) {
      c.isValid(10);
    } catch (SQLException e) {
      throw new InputException("--jdbc " + url + ": cannot connect: " + e.getMessage());
    }
  }
}
