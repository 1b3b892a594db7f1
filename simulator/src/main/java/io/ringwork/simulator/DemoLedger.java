package io.ringwork.simulator;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's store: a real SQL table of resources whose every write is fenced, the pattern a
 * service copies for its own store ({@code UPDATE resources ... WHERE id = ? AND token <= ?}): a
 * write with a lower token than the row's is rejected, so a paused or stale holder cannot overwrite
 * its successor. One connection per writer thread.
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

  /** Creates the table, replacing any, with one unprocessed row per key. */
  static DemoLedger create(String url, List<String> keys) throws SQLException {
    DemoLedger ledger = new DemoLedger(url);
    ledger.init(keys);
    return ledger;
  }

  private void init(List<String> keys) throws SQLException {
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
              + " token BIGINT NOT NULL, processed BIGINT NOT NULL)");
      c.setAutoCommit(false);
      try (PreparedStatement ins =
          c.prepareStatement("INSERT INTO resources VALUES (?, NULL, 0, 0)")) {
        for (String k : keys) {
          ins.setString(1, k);
          ins.addBatch();
        }
        ins.executeBatch();
      }
      c.commit();
    }
  }

  private static final Set<String> COLUMNS = Set.of("id", "owner", "token", "processed");

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

    Writer() throws SQLException {
      c = DriverManager.getConnection(url);
      update =
          c.prepareStatement(
              "UPDATE resources SET owner = ?, token = ?, processed = processed + 1"
                  + " WHERE id = ? AND token <= ?");
    }

    /** Writes a key with a token; returns whether the store took it. */
    boolean write(String key, String owner, long token) throws SQLException {
      update.setString(1, owner);
      update.setLong(2, token);
      update.setString(3, key);
      update.setLong(4, token);
      boolean ok = update.executeUpdate() == 1;
      (ok ? accepted : rejected).incrementAndGet();
      return ok;
    }

    @Override
    public void close() throws SQLException {
      c.close();
    }
  }

  /** Returns how many resources were never processed. */
  long unprocessed() throws SQLException {
    return count("SELECT COUNT(*) FROM resources WHERE processed = 0");
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

  /** Describes a key's row: its owner and token. */
  String row(String key) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement q =
            c.prepareStatement("SELECT owner, token, processed FROM resources WHERE id = ?")) {
      q.setString(1, key);
      try (ResultSet r = q.executeQuery()) {
        return r.next()
            ? "owner " + r.getString(1) + ", token " + r.getLong(2) + ", processed " + r.getLong(3)
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
}
