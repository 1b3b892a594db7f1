package io.ringwork.rebalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.GroupPaths;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * Stores a group's assignment in ZooKeeper: a small header naming the version, plus a base snapshot
 * (chunked under ZooKeeper's 1 MB node limit) and the deltas written since.
 *
 * <pre>
 * &lt;group&gt;/assignment                        header JSON {format, version, base, chunks, tag[, delta]}
 * &lt;group&gt;/assignment-data/base-V-TAG-I        chunk I of the snapshot of version V, written by
 *                                           the publisher that drew the random TAG
 * &lt;group&gt;/assignment-data/delta-V             the change from V-1 to V
 * </pre>
 *
 * <p>The header is the commit point: the header moves by compare-and-set on its node version, in
 * one transaction with the delta, so a deposed leader that has not noticed yet cannot overwrite its
 * successor. A snapshot is too large for that transaction, so its chunks are written first, under a
 * name that carries a random tag of this publish: a publisher that then loses the compare-and-set
 * has written only nodes that no committed header names, and deletes them. Nothing is ever
 * overwritten, so every reader of version V reads the one table its winner committed. (The first
 * release overwrote same-named chunks and let a loser replace the winner's table.)
 *
 * <p>A reply can be lost after the server committed: the client sees ConnectionLoss, and Curator's
 * retry of the transaction then meets our own commit (NodeExists, BadVersion). So a failed
 * transaction is checked by reading the header back; if it holds exactly our bytes (and the delta
 * node our delta), the publish won. A publisher deletes its chunks only after reading a header that
 * does not name their tag, and deletes nothing when it cannot read the header.
 *
 * <p>A reader holding version V applies deltas V+1.. and reloads the base only when it is too far
 * behind.
 */
final class AssignmentStore {

  /** Largest chunk written, safely under ZooKeeper's default 1 MB jute.maxbuffer. */
  static final int CHUNK_BYTES = 512 * 1024;

  /** Deltas kept before a new base is written. */
  static final int MAX_DELTAS = 32;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final CuratorFramework client;
  private final String headerPath;
  private final String dataPath;
  private final KeyRouter router;

  AssignmentStore(CuratorFramework client, GroupPaths paths, KeyRouter router) {
    this.client = client;
    this.headerPath = paths.assignment();
    this.dataPath = paths.assignmentData();
    this.router = router;
  }

  String headerPath() {
    return headerPath;
  }

  /** An assignment as read back, with the zxid and node version of its header write. */
  record Stored(Assignment assignment, long zxid, int headerVersion, long base) {}

  /** What a publish stored and how many bytes it wrote. */
  record Published(Stored stored, long bytes) {}

  /**
   * A header that names version {@code version}, with base {@code base} of {@code chunks} written
   * under {@code tag} (empty for bases written before tags).
   */
  private record Header(long version, long base, int chunks, String tag, byte[] inline) {}

  /**
   * Largest delta also carried inline in the header, so that readers one version behind read once.
   */
  static final int INLINE_BYTES = 16 * 1024;

  /**
   * Reads the stored assignment, or null when none has been published. {@code cached} (may be null)
   * is brought forward by deltas when it can be.
   *
   * @throws CorruptAssignmentException if the stored data cannot be decoded
   */
  Stored read(Stored cached) throws Exception {
    return read(cached, null, null);
  }

  /**
   * Like {@link #read(Stored)}, starting from a header already at hand (a cache's copy, with its
   * stat) to save a read; a header that turns out stale is read again.
   */
  Stored read(Stored cached, byte[] headerData, Stat headerStat) throws Exception {
    if (cached != null && headerStat != null && headerStat.getMzxid() <= cached.zxid()) {
      return cached; // the copy at hand is not newer than what we hold (e.g. we just published)
    }
    for (int attempt = 0; ; attempt++) {
      Stat stat = new Stat();
      byte[] data;
      if (attempt == 0 && headerData != null && headerStat != null) {
        data = headerData;
        stat = headerStat;
      } else {
        try {
          data = client.getData().storingStatIn(stat).forPath(headerPath);
        } catch (KeeperException.NoNodeException e) {
          return null;
        }
      }
      Header header = parseHeader(data);
      try {
        Assignment a;
        if (cached != null
            && cached.assignment().version() == header.version()
            && cached.zxid() == stat.getMzxid()) {
          return cached;
        }
        if (cached != null
            && cached.assignment().version() >= header.base()
            && cached.assignment().version() < header.version()) {
          a = cached.assignment();
          for (long v = a.version() + 1; v <= header.version(); v++) {
            // The newest delta travels inline in the header when it is small: no extra read.
            byte[] delta =
                v == header.version() && header.inline() != null
                    ? header.inline()
                    : client.getData().forPath(deltaPath(v));
            a = AssignmentCodec.applyDelta(a, delta);
          }
        } else {
          a = readBase(header);
          for (long v = header.base() + 1; v <= header.version(); v++) {
            a = AssignmentCodec.applyDelta(a, client.getData().forPath(deltaPath(v)));
          }
        }
        if (a.version() != header.version()) {
          throw new CorruptAssignmentException(
              "stored assignment is version " + a.version() + " but its header says " + header);
        }
        return new Stored(a, stat.getMzxid(), stat.getVersion(), header.base());
      } catch (KeeperException.NoNodeException e) {
        // A newer leader compacted while we read; start again from the header.
        if (attempt >= 5) {
          throw e;
        }
      }
    }
  }

  private Assignment readBase(Header header) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int i = 0; i < header.chunks(); i++) {
      bytes.write(client.getData().forPath(chunkPath(header.base(), header.tag(), i)));
    }
    Assignment base = AssignmentCodec.readSnapshot(bytes.toByteArray(), router);
    if (base.version() != header.base()) {
      throw new CorruptAssignmentException(
          "stored base is version " + base.version() + " but the header says " + header.base());
    }
    return base;
  }

  /**
   * Publishes {@code next} after {@code previous} (null when there is none) and returns what was
   * stored, with the bytes written.
   *
   * @throws KeeperException.BadVersionException if someone else moved the header meanwhile
   * @throws KeeperException.NodeExistsException if someone else published the first version
   */
  Published publish(Stored previous, Assignment next) throws Exception {
    byte[] delta = null;
    if (previous != null && next.version() - previous.base() <= MAX_DELTAS) {
      delta = AssignmentCodec.delta(previous.assignment(), next);
      if (delta != null && delta.length > CHUNK_BYTES) {
        delta = null;
      }
    }
    long bytes = 0;
    Header header;
    List<CuratorOp> ops = new ArrayList<>();
    List<String> written = new ArrayList<>();
    if (delta != null) {
      Header before = parseHeader(client.getData().forPath(headerPath));
      header =
          new Header(
              next.version(),
              previous.base(),
              before.chunks(),
              before.tag(),
              delta.length <= INLINE_BYTES ? delta : null);
      ops.add(
          client
              .transactionOp()
              .create()
              .withMode(CreateMode.PERSISTENT)
              .forPath(deltaPath(next.version()), delta));
      bytes += delta.length;
    } else {
      byte[] snapshot = AssignmentCodec.snapshot(next);
      int chunks = Math.max(1, (snapshot.length + CHUNK_BYTES - 1) / CHUNK_BYTES);
      String tag = String.format(Locale.ROOT, "%016x", RANDOM.nextLong());
      for (int i = 0; i < chunks; i++) {
        int from = i * CHUNK_BYTES;
        int to = Math.min(snapshot.length, from + CHUNK_BYTES);
        String path = chunkPath(next.version(), tag, i);
        // A fresh tag: nobody else writes this name, so nothing committed is ever overwritten.
        client
            .create()
            .creatingParentsIfNeeded()
            .forPath(path, Arrays.copyOfRange(snapshot, from, to));
        written.add(path);
        bytes += to - from;
      }
      header = new Header(next.version(), next.version(), chunks, tag, null);
    }
    byte[] headerBytes = headerJson(header);
    bytes += headerBytes.length;
    if (previous == null) {
      try {
        client.create().creatingParentsIfNeeded().forPath(dataPath);
      } catch (KeeperException.NodeExistsException e) {
        // fine
      }
      ops.add(client.transactionOp().create().forPath(headerPath, headerBytes));
    } else {
      // First, so that a lost compare-and-set is what the transaction reports.
      ops.add(
          0,
          client
              .transactionOp()
              .setData()
              .withVersion(previous.headerVersion())
              .forPath(headerPath, headerBytes));
    }
    try {
      client.transaction().forOperations(ops);
    } catch (Exception e) {
      if (!committedAfterAll(
          e, headerBytes, delta == null ? null : deltaPath(next.version()), delta)) {
        deleteUnlessNamed(written, header.tag());
        throw e;
      }
    }
    Stat stat = client.checkExists().forPath(headerPath);
    Stored stored = new Stored(next, stat.getMzxid(), stat.getVersion(), header.base());
    if (delta == null && previous != null) {
      deleteUnreferenced(header);
    }
    return new Published(stored, bytes);
  }

  /**
   * Whether a transaction that failed with {@code failure} committed all the same. A lost reply
   * looks like a failure: Curator retries the transaction after the ConnectionLoss, and the retry
   * finds its own commit in the way (NodeExists, BadVersion). The header then holds exactly our
   * bytes (a snapshot's names a tag that only this publish drew) and the delta node, if any, our
   * delta.
   */
  private boolean committedAfterAll(
      Exception failure, byte[] headerBytes, String deltaPath, byte[] delta) {
    if (failure instanceof InterruptedException) {
      return false;
    }
    try {
      return Arrays.equals(client.getData().forPath(headerPath), headerBytes)
          && (deltaPath == null || Arrays.equals(client.getData().forPath(deltaPath), delta));
    } catch (KeeperException.NoNodeException e) {
      return false;
    } catch (Exception e) {
      failure.addSuppressed(e);
      return false;
    }
  }

  /**
   * Deletes the chunks a publish wrote, unless the committed header names their tag: checked before
   * deleting, so that a publisher that could not learn its outcome never removes a committed table.
   * When the header cannot be read, nothing is deleted (a later base's compaction removes them).
   */
  private void deleteUnlessNamed(List<String> written, String tag) {
    if (written.isEmpty()) {
      return;
    }
    try {
      byte[] now = client.getData().forPath(headerPath);
      if (parseHeader(now).tag().equals(tag)) {
        return;
      }
    } catch (KeeperException.NoNodeException e) {
      // no header: nothing names them
    } catch (Exception e) {
      return;
    }
    for (String path : written) {
      try {
        client.delete().forPath(path);
      } catch (Exception gone) {
        // compaction of a later base removes it
      }
    }
  }

  /** Deletes what the committed header no longer needs: older versions, and others' bases. */
  private void deleteUnreferenced(Header header) throws Exception {
    String mine = "base-" + String.format(Locale.ROOT, "%019d", header.base()) + "-" + header.tag();
    for (String child : client.getChildren().forPath(dataPath)) {
      long v = versionOf(child);
      boolean orphan = child.startsWith("base-") && v <= header.base() && !child.startsWith(mine);
      if (v >= 0 && (v < header.base() || orphan)) {
        try {
          client.delete().forPath(dataPath + "/" + child);
        } catch (KeeperException.NoNodeException e) {
          // already gone
        }
      }
    }
  }

  private static long versionOf(String child) {
    try {
      String[] parts = child.split("-");
      return Long.parseLong(parts[1]);
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private String deltaPath(long version) {
    return dataPath + "/delta-" + String.format(Locale.ROOT, "%019d", version);
  }

  private String chunkPath(long version, String tag, int chunk) {
    String base = "/base-" + String.format(Locale.ROOT, "%019d", version);
    return dataPath
        + base
        + (tag.isEmpty() ? "" : "-" + tag)
        + String.format(Locale.ROOT, "-%04d", chunk);
  }

  private byte[] headerJson(Header header) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", 1);
    node.put("version", header.version());
    node.put("base", header.base());
    node.put("chunks", header.chunks());
    node.put("tag", header.tag());
    if (header.inline() != null) {
      node.put("delta", Base64.getEncoder().encodeToString(header.inline()));
    }
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  private Header parseHeader(byte[] data) {
    try {
      JsonNode node = JSON.readTree(data);
      if (node == null || node.path("format").asInt() != 1) {
        throw new CorruptAssignmentException(
            "assignment header at " + headerPath + " has an unknown format: " + text(data));
      }
      return new Header(
          node.path("version").asLong(),
          node.path("base").asLong(),
          node.path("chunks").asInt(),
          node.path("tag").asText(""),
          node.hasNonNull("delta")
              ? Base64.getDecoder().decode(node.path("delta").asText())
              : null);
    } catch (CorruptAssignmentException e) {
      throw e;
    } catch (IOException | IllegalArgumentException e) {
      throw new CorruptAssignmentException(
          "assignment header at " + headerPath + " is not readable JSON: " + text(data));
    }
  }

  private static String text(byte[] data) {
    String s = data == null ? "null" : new String(data, StandardCharsets.UTF_8);
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
