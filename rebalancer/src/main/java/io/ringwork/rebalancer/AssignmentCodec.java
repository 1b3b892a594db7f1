package io.ringwork.rebalancer;

import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Partitioner;
import io.ringwork.ring.Strategy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Binary forms of stored assignments: a full snapshot, and a delta from one version to the next.
 *
 * <p>Both are deflated. A snapshot is the member list then, per partition, the owners as varint
 * indices into that list. A delta names the removed member ids, the added or changed members, and
 * the changed partitions only (partition numbers gap-encoded, owners as indices into the new member
 * list), so that a one-member change at P = 65,536 stays far below 64 KB. Owners are applied by
 * member id, because indices shift when the member list changes.
 */
final class AssignmentCodec {

  private static final int SNAPSHOT_MAGIC = 0x52574131; // "RWA1"
  private static final int DELTA_MAGIC = 0x52574431; // "RWD1"

  private AssignmentCodec() {}

  /** Encodes a whole assignment. */
  static byte[] snapshot(Assignment a) {
    return deflate(
        out -> {
          out.writeInt(SNAPSHOT_MAGIC);
          out.writeLong(a.version());
          out.writeUTF(a.strategy().configName());
          out.writeInt(a.partitions());
          out.writeInt(a.replicas());
          writeMembers(out, a.members());
          int stride = a.ownersPerPartition();
          for (int p = 0; p < a.partitions(); p++) {
            for (int r = 0; r < stride; r++) {
              writeVarint(out, a.ownerIndex(p, r));
            }
          }
        });
  }

  /**
   * Decodes a snapshot.
   *
   * @param router the key router of the group, which is not stored
   * @throws CorruptAssignmentException if the bytes are not a valid snapshot
   */
  static Assignment readSnapshot(byte[] bytes, KeyRouter router) {
    return inflate(
        bytes,
        in -> {
          expectMagic(in, SNAPSHOT_MAGIC, "snapshot");
          long version = in.readLong();
          Strategy strategy = Strategy.parse(in.readUTF());
          int partitions = in.readInt();
          int replicas = in.readInt();
          List<Member> members = readMembers(in);
          int stride = Math.min(replicas, members.size());
          int[] table = new int[checkedSize(partitions, stride)];
          for (int i = 0; i < table.length; i++) {
            table[i] = readVarint(in);
          }
          return Assignment.fromTable(
              strategy, version, Partitioner.of(partitions, router), replicas, members, table);
        });
  }

  /**
   * Encodes what changed from {@code before} to {@code after}, or returns null when a delta cannot
   * express it (another partition count, replica count or owners per partition).
   */
  static byte[] delta(Assignment before, Assignment after) {
    if (before.partitions() != after.partitions()
        || before.replicas() != after.replicas()
        || before.ownersPerPartition() != after.ownersPerPartition()
        || before.strategy() != after.strategy()) {
      return null;
    }
    Map<String, Member> old = new HashMap<>();
    before.members().forEach(m -> old.put(m.id(), m));
    Set<String> now = new HashSet<>();
    List<Member> changed = new ArrayList<>();
    for (Member m : after.members()) {
      now.add(m.id());
      if (!m.equals(old.get(m.id()))) {
        changed.add(m);
      }
    }
    List<String> removed = new ArrayList<>();
    for (Member m : before.members()) {
      if (!now.contains(m.id())) {
        removed.add(m.id());
      }
    }
    int stride = after.ownersPerPartition();
    List<Member> bm = before.members();
    List<Member> am = after.members();
    return deflate(
        out -> {
          out.writeInt(DELTA_MAGIC);
          out.writeLong(before.version());
          out.writeLong(after.version());
          writeVarint(out, removed.size());
          for (String id : removed) {
            out.writeUTF(id);
          }
          writeMembers(out, changed);
          ByteArrayOutputStream body = new ByteArrayOutputStream();
          DataOutputStream bodyOut = new DataOutputStream(body);
          int count = 0;
          int last = -1;
          for (int p = 0; p < after.partitions(); p++) {
            boolean same = true;
            for (int r = 0; same && r < stride; r++) {
              same =
                  bm.get(before.ownerIndex(p, r)).id().equals(am.get(after.ownerIndex(p, r)).id());
            }
            if (!same) {
              writeVarint(bodyOut, p - last - 1);
              last = p;
              for (int r = 0; r < stride; r++) {
                writeVarint(bodyOut, after.ownerIndex(p, r));
              }
              count++;
            }
          }
          writeVarint(out, count);
          body.writeTo(out);
        });
  }

  /**
   * Applies a delta to the assignment it was computed from.
   *
   * @throws CorruptAssignmentException if the bytes are not a valid delta from {@code before}
   */
  static Assignment applyDelta(Assignment before, byte[] bytes) {
    return inflate(
        bytes,
        in -> {
          expectMagic(in, DELTA_MAGIC, "delta");
          long from = in.readLong();
          long to = in.readLong();
          if (from != before.version()) {
            throw new CorruptAssignmentException(
                "delta applies to version " + from + ", not " + before.version());
          }
          TreeMap<String, Member> members = new TreeMap<>();
          before.members().forEach(m -> members.put(m.id(), m));
          int removed = readVarint(in);
          for (int i = 0; i < removed; i++) {
            members.remove(in.readUTF());
          }
          for (Member m : readMembers(in)) {
            members.put(m.id(), m);
          }
          List<Member> list = new ArrayList<>(members.values());
          Map<String, Integer> index = new HashMap<>();
          for (int i = 0; i < list.size(); i++) {
            index.put(list.get(i).id(), i);
          }
          int stride = before.ownersPerPartition();
          if (Math.min(before.replicas(), list.size()) != stride) {
            throw new CorruptAssignmentException("delta changes the owners per partition");
          }
          List<Member> bm = before.members();
          int[] remap = new int[bm.size()];
          for (int i = 0; i < remap.length; i++) {
            Integer j = index.get(bm.get(i).id());
            remap[i] = j == null ? -1 : j;
          }
          int[] table = before.table();
          for (int i = 0; i < table.length; i++) {
            table[i] = remap[table[i]];
          }
          int count = readVarint(in);
          int p = -1;
          for (int k = 0; k < count; k++) {
            p += readVarint(in) + 1;
            if (p >= before.partitions()) {
              throw new CorruptAssignmentException("delta names partition " + p);
            }
            for (int r = 0; r < stride; r++) {
              table[p * stride + r] = readVarint(in);
            }
          }
          for (int i = 0; i < table.length; i++) {
            if (table[i] < 0) {
              throw new CorruptAssignmentException(
                  "delta leaves partition " + (i / stride) + " with a removed owner");
            }
          }
          return Assignment.fromTable(
              before.strategy(), to, before.partitioner(), before.replicas(), list, table);
        });
  }

  private static int checkedSize(int partitions, int stride) {
    Partitioner.checkPartitions(partitions);
    if (stride < 1) {
      throw new CorruptAssignmentException("snapshot has no owners per partition");
    }
    return Math.multiplyExact(partitions, stride);
  }

  private static void writeMembers(DataOutputStream out, List<Member> members) throws IOException {
    writeVarint(out, members.size());
    for (Member m : members) {
      out.writeUTF(m.id());
      out.writeDouble(m.weight());
      out.writeUTF(m.zone().orElse(""));
      writeVarint(out, m.labels().size());
      for (String label : m.labels()) {
        out.writeUTF(label);
      }
    }
  }

  private static List<Member> readMembers(DataInputStream in) throws IOException {
    int n = readVarint(in);
    if (n > (1 << 24)) {
      throw new CorruptAssignmentException("member count " + n + " is out of range");
    }
    List<Member> members = new ArrayList<>(Math.min(n, 1024));
    for (int i = 0; i < n; i++) {
      String id = in.readUTF();
      double weight = in.readDouble();
      String zone = in.readUTF();
      int labels = readVarint(in);
      TreeSet<String> set = new TreeSet<>();
      for (int k = 0; k < labels; k++) {
        set.add(in.readUTF());
      }
      try {
        members.add(
            new Member(id, weight, zone.isEmpty() ? Optional.empty() : Optional.of(zone), set));
      } catch (IllegalArgumentException e) {
        throw new CorruptAssignmentException("stored member is invalid: " + e.getMessage());
      }
    }
    return members;
  }

  static void writeVarint(DataOutputStream out, int value) throws IOException {
    while ((value & ~0x7F) != 0) {
      out.writeByte((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.writeByte(value);
  }

  static int readVarint(DataInputStream in) throws IOException {
    int value = 0;
    for (int shift = 0; shift < 32; shift += 7) {
      int b = in.readUnsignedByte();
      value |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return value;
      }
    }
    throw new CorruptAssignmentException("varint is longer than 5 bytes");
  }

  private static void expectMagic(DataInputStream in, int magic, String what) throws IOException {
    int got = in.readInt();
    if (got != magic) {
      throw new CorruptAssignmentException(
          "not an assignment " + what + ": magic " + Integer.toHexString(got));
    }
  }

  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private interface Reader<T> {
    T read(DataInputStream in) throws IOException;
  }

  private static byte[] deflate(Writer writer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Deflater deflater = new Deflater(Deflater.BEST_SPEED);
    try (DataOutputStream out =
        new DataOutputStream(new DeflaterOutputStream(bytes, deflater, 8192))) {
      writer.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deflater.end();
    }
    return bytes.toByteArray();
  }

  private static <T> T inflate(byte[] bytes, Reader<T> reader) {
    Inflater inflater = new Inflater();
    try (DataInputStream in =
        new DataInputStream(
            new InflaterInputStream(new ByteArrayInputStream(bytes), inflater, 8192))) {
      return reader.read(in);
    } catch (EOFException e) {
      throw new CorruptAssignmentException("stored assignment is truncated");
    } catch (IOException e) {
      if (e.getCause() instanceof DataFormatException || e instanceof java.util.zip.ZipException) {
        throw new CorruptAssignmentException("stored assignment is not deflated data");
      }
      throw new UncheckedIOException(e);
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      if (e instanceof CorruptAssignmentException) {
        throw e;
      }
      throw new CorruptAssignmentException("stored assignment is invalid: " + e.getMessage());
    } finally {
      inflater.end();
    }
  }
}
