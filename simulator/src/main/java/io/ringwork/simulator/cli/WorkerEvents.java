package io.ringwork.simulator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.Member;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Prints listener callbacks as JSON lines. Partition sets are ranges ({@link PartitionRanges}): at
 * P = 4,096 a full list with a token per partition made one {@code assigned} line about 59 KB.
 */
public final class WorkerEvents implements OwnershipListener {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PrintWriter out;
  private final boolean lists;
  private volatile boolean sessionLost;

  /**
   * Prints to {@code out}; with {@code lists}, also the full {@code partitions} list and the {@code
   * tokens} map per partition.
   */
  public WorkerEvents(PrintWriter out, boolean lists) {
    this.out = out;
    this.lists = lists;
  }

  public void emit(String event, java.util.function.Consumer<ObjectNode> fill) {
    ObjectNode n = JSON.createObjectNode();
    n.put("format", Reports.FORMAT);
    n.put("event", event);
    fill.accept(n);
    n.put("ts", System.currentTimeMillis());
    n.put("ns", System.nanoTime()); // one monotonic clock for every process of a Linux machine
    synchronized (out) {
      out.println(n.toString());
      out.flush();
    }
  }

  @Override
  public void onAssigned(List<Grant> grants) {
    emit(
        "assigned",
        n -> {
          long version = 0;
          long session = 0;
          TreeMap<Long, List<Integer>> byToken = new TreeMap<>();
          List<Integer> all = new ArrayList<>(grants.size());
          for (Grant g : grants) {
            all.add(g.partition());
            byToken.computeIfAbsent(g.token(), t -> new ArrayList<>()).add(g.partition());
            version = g.version();
            session = g.session();
          }
          // The ZooKeeper session the grants are held in: a checker tells incarnations apart.
          n.put("session", Long.toHexString(session));
          partitions(n, all);
          // One activation grants its partitions under one token: usually a single entry.
          ArrayNode tokenRanges = n.putArray("tokenRanges");
          byToken.forEach(
              (token, parts) ->
                  tokenRanges
                      .addObject()
                      .put("token", token)
                      .put("ranges", PartitionRanges.format(parts)));
          if (lists) {
            ObjectNode tokens = n.putObject("tokens");
            for (Grant g : grants) {
              tokens.put(Integer.toString(g.partition()), g.token());
            }
          }
          n.put("version", version);
        });
  }

  @Override
  public void onRevoked(Set<Integer> partitions) {
    emit("revoked", n -> partitions(n, partitions));
  }

  /** Whether the last word of the rebalancer was that the session is lost. */
  public boolean sessionLost() {
    return sessionLost;
  }

  @Override
  public void onLost(Set<Integer> partitions) {
    sessionLost = true;
    emit("lost", n -> partitions(n, partitions));
  }

  @Override
  public void onSuspended() {
    emit("suspended", n -> {});
  }

  @Override
  public void onResumed() {
    sessionLost = false;
    emit("resumed", n -> {});
  }

  @Override
  public void onAssignment(Assignment a) {
    sessionLost = false; // a view comes only through a live session
    emit(
        "view",
        n -> {
          n.put("version", a.version());
          ArrayNode members = n.putArray("members");
          for (Member m : a.members()) {
            members.addObject().put("id", m.id()).put("partitions", a.primaryCount(m.id()));
          }
        });
  }

  private void partitions(ObjectNode n, Collection<Integer> partitions) {
    n.put("ranges", PartitionRanges.format(partitions));
    n.put("count", partitions.size());
    if (lists) {
      ArrayNode parts = n.putArray("partitions");
      new TreeSet<>(partitions).forEach(parts::add);
    }
  }
}
