package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.lock.KeyLockState;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockInfo;
import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.FleetState;
import io.ringwork.rebalancer.GroupInspection;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Ring;
import io.ringwork.simulator.cli.GroupOptions;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.LiveGroups;
import io.ringwork.simulator.cli.Reports;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ringwork inspect}: a live group as an operator needs to see it (members, the handoff in
 * progress, load against quota, and every lock with its queue), read without changing anything.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    header = "Show a live group: members, handoff, load against quota and locks.",
    description = {
      "Show a live group: members (weight, zone, labels, incarnation, since, draining, leader),",
      "the handoff in progress (who has not acknowledged the state in force, and since when),",
      "partitions per member against quota, and locks (holders and waiters in order, with age).",
      "--key K shows one key's partition, owners and lock queue. Reads only; never changes the group.",
      "--serve runs a read-only web view of the group (/, /api/inspect, /metrics, /healthz).",
      "A missing group exits 2, but with --watch, which waits for the group to appear."
    },
    footer = {
      "",
      "Examples:",
      "  ringwork inspect --connect 127.0.0.1:2181 --group conductors",
      "  ringwork inspect --connect 127.0.0.1:2181 --group conductors --key node-7 --format json",
      "  ringwork inspect --connect 127.0.0.1:2181 --group conductors --watch",
      "  ringwork inspect --connect 127.0.0.1:2181 --group conductors --serve --bind 127.0.0.1:8080"
    })
public final class InspectCommand implements Callable<Integer> {

  @CommandLine.Mixin GroupOptions live;

  @Option(names = "--key", paramLabel = "K", description = "Show one key.")
  String key;

  @Option(names = "--format", paramLabel = "FORMAT", description = "table (default) or json.")
  String format = "table";

  @Option(names = "--watch", description = "Refresh until interrupted (or --count times).")
  boolean watch;

  @Option(
      names = "--interval",
      paramLabel = "MS",
      description = "Refresh interval with --watch (default 1000).")
  long intervalMs = 1000;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "With --watch, stop after N refreshes (default: never).")
  int count = -1;

  @Option(
      names = "--route-until",
      paramLabel = "C",
      description =
          "Route keys up to the first C; by default the router stored in the group's config"
              + " (else the whole key).")
  Character routeUntil;

  @Option(
      names = "--serve",
      description = "Serve a live, read-only web view of the group until interrupted.")
  boolean serve;

  @Option(
      names = "--bind",
      paramLabel = "HOST:PORT",
      description =
          "With --serve: the address to listen on (default 127.0.0.1:8080; port 0 picks one).")
  String bind;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    if (!format.equals("table") && !format.equals("json")) {
      throw new InputException("--format must be table or json, got '" + format + "'");
    }
    if (intervalMs < 100 || intervalMs > 3_600_000) {
      throw new InputException("--interval must be between 100 and 3600000 ms, got " + intervalMs);
    }
    if ((count != -1 && count < 1) || (count != -1 && !watch)) {
      throw new InputException("--count N (N >= 1) goes with --watch");
    }
    if (bind != null && !serve) {
      throw new InputException("--bind goes with --serve");
    }
    if (serve && (watch || key != null || !format.equals("table"))) {
      throw new InputException("--serve goes without --watch, --key and --format");
    }
    InetSocketAddress address = serve ? InspectServer.parseBind(bind) : null;
    PrintWriter out = spec.commandLine().getOut();
    try (CuratorFramework client = live.client()) {
      String groupPath =
          watch
              ? LiveGroups.awaitGroup(
                  client,
                  live.connect(),
                  live.namespace(),
                  live.group(),
                  spec.commandLine().getErr())
              : LiveGroups.existingGroup(client, live.connect(), live.namespace(), live.group());
      KeyRouter router = LiveGroups.router(client, groupPath, routeUntil);
      try (KeyLocks locks =
          LiveGroups.reader(
              client,
              live.namespace(),
              live.group(),
              "ringwork-inspect-" + ProcessHandle.current().pid(),
              router)) {
        if (key != null) {
          try {
            locks.inspect(key);
          } catch (IllegalArgumentException e) {
            throw new InputException("--key: " + e.getMessage());
          }
        }
        if (serve) {
          return InspectServer.serve(
              address, () -> report(client, groupPath, router, locks), intervalMs, out);
        }
        boolean terminal = System.console() != null && format.equals("table");
        for (int n = 0; ; n++) {
          ObjectNode report = report(client, groupPath, router, locks);
          if (terminal && watch) {
            out.print("\033[H\033[2J"); // refresh in place
          } else if (watch && n > 0 && format.equals("table")) {
            out.println();
          }
          if (format.equals("json")) {
            out.println(watch ? report.toString() : report.toPrettyString());
          } else {
            table(out, report);
          }
          out.flush();
          if (!watch || (count > 0 && n + 1 >= count)) {
            return 0;
          }
          Thread.sleep(intervalMs);
        }
      }
    }
  }

  /** What one reading of the group found: its status, handoff, owners and fleet controls. */
  private record Reading(
      GroupStatus status,
      GroupInspection handoff,
      Ring ring,
      String ringProblem,
      FleetState fleet,
      List<String> workers,
      long now) {}

  private ObjectNode report(
      CuratorFramework client, String groupPath, KeyRouter router, KeyLocks locks)
      throws Exception {
    GroupStatus status = GroupStatus.read(client, groupPath);
    GroupInspection handoff = GroupInspection.read(client, groupPath);
    Ring ring = null;
    String ringProblem = null;
    try {
      ring = GroupStatus.liveRing(client, groupPath, router);
    } catch (IllegalArgumentException e) {
      ringProblem = e.getMessage();
    }
    FleetState fleet = FleetState.read(client, new GroupPaths(groupPath));
    List<String> workers = new ArrayList<>();
    for (GroupStatus.Row r : status.members()) {
      if (!r.data().path("role").asText("worker").equals("observer")) {
        workers.add(r.id());
      }
    }
    Reading g =
        new Reading(status, handoff, ring, ringProblem, fleet, workers, System.currentTimeMillis());
    ObjectNode root = JSON.createObjectNode();
    root.put("format", Reports.FORMAT);
    root.put("group", live.group());
    root.put("strategy", handoff.strategy());
    root.put("partitions", handoff.partitions());
    putNullable(root, "leader", status.leader());
    root.put("assignmentVersion", status.assignmentVersion());
    handoff(root.putObject("handoff"), g);
    members(root.putArray("members"), g);
    FleetReports.fill(root, fleet, ring, g.now());
    List<KeyLockState> states = key != null ? List.of(locks.inspect(key)) : locks.inspectAll();
    if (key != null) {
      key(root.putObject("key"), g, locks, states.get(0));
    }
    locks(root.putArray("locks"), g, states);
    problems(root.putArray("problems"), g, states);
    return root;
  }

  /** The weight quotas are shared by: live workers not draining, and reserved members. */
  private static double totalWeight(Reading g) {
    double totalWeight = 0;
    for (FleetState.Reservation res : g.fleet().reservations().values()) {
      if (res.state() != FleetState.Reservation.State.PRESENT) {
        totalWeight += res.member().weight(); // a reserved member counts for quotas
      }
    }
    for (GroupStatus.Row r : g.status().members()) {
      JsonNode d = r.data();
      if (g.workers().contains(r.id()) && !d.path("draining").asBoolean(false)) {
        totalWeight += d.path("weight").asDouble(1);
      }
    }
    return totalWeight;
  }

  /** The handoff barrier: its state, since when, and the workers it waits for. */
  private static void handoff(ObjectNode h, Reading g) {
    GroupInspection handoff = g.handoff();
    h.put("state", handoff.barrierState());
    h.put("since", handoff.barrierSince());
    List<String> pending = handoff.pending(g.workers());
    h.put("inProgress", !pending.isEmpty());
    ArrayNode pend = h.putArray("pending");
    for (String w : pending) {
      ObjectNode o = pend.addObject();
      o.put("member", w);
      GroupInspection.AckRow ack = handoff.ack(w);
      putNullable(o, "acknowledged", ack == null ? null : ack.state());
      o.put(
          "waitingMs",
          handoff.barrierSince() == 0 ? 0 : Math.max(0, g.now() - handoff.barrierSince()));
    }
  }

  /** One object per member: its data, partitions, quota, acknowledgement and drain request. */
  private static void members(ArrayNode members, Reading g) {
    double totalWeight = totalWeight(g);
    for (GroupStatus.Row r : g.status().members()) {
      JsonNode d = r.data();
      ObjectNode o = members.addObject();
      o.put("id", r.id());
      o.set("weight", d.path("weight"));
      if (d.has("zone")) {
        o.set("zone", d.get("zone"));
      }
      o.set("labels", d.path("labels"));
      o.put("role", d.path("role").asText("worker"));
      o.put("incarnation", r.incarnation());
      o.put("since", r.since());
      o.put("draining", d.path("draining").asBoolean(false));
      o.put("leader", r.id().equals(g.status().leader()));
      boolean worker = g.workers().contains(r.id());
      if (worker && g.ring() instanceof Assignment a) {
        o.put("partitions", a.primaryCount(r.id()));
      } else {
        o.putNull("partitions");
      }
      if (worker && totalWeight > 0 && !d.path("draining").asBoolean(false)) {
        o.put("quota", g.handoff().partitions() * d.path("weight").asDouble(1) / totalWeight);
      } else {
        o.putNull("quota");
      }
      GroupInspection.AckRow ack = g.handoff().ack(r.id());
      putNullable(o, "acknowledged", ack == null ? null : ack.state());
      o.put("drainRequested", g.fleet().drainRequested(r.id(), r.incarnation()));
      if (d.has("corrupt")) {
        o.put("problem", "unreadable member data: " + d.path("corrupt").asText());
      }
    }
  }

  /** The {@code --key} asked about: its partition, owners, holders, waiters and breaks. */
  private void key(ObjectNode k, Reading g, KeyLocks locks, KeyLockState state) {
    k.put("key", key);
    k.put("partition", locks.partition(key));
    ArrayNode owners = k.putArray("owners");
    if (g.ring() != null) {
      for (Member m : g.ring().owners(key)) {
        owners.add(m.id());
      }
    }
    LockReports.fill(k.putArray("holders"), state.holders(), g.now());
    LockReports.fill(k.putArray("waiters"), state.waiters(), g.now());
    LockReports.fillBreaks(k.putArray("breaks"), LockReports.breaks(locks, key));
  }

  /** One object per key held or waited for, with the partition's owner. */
  private static void locks(ArrayNode lockArray, Reading g, List<KeyLockState> states) {
    for (KeyLockState s : states) {
      if (s.holders().isEmpty() && s.waiters().isEmpty()) {
        continue;
      }
      ObjectNode o = lockArray.addObject();
      o.put("key", s.key());
      o.put("partition", s.partition());
      putNullable(o, "owner", g.ring() == null ? null : primary(g.ring(), s.key()));
      LockReports.fill(o.putArray("holders"), s.holders(), g.now());
      LockReports.fill(o.putArray("waiters"), s.waiters(), g.now());
    }
  }

  /** The handoff's problems, the owners' when unknown, and each lock node's. */
  private static void problems(ArrayNode problems, Reading g, List<KeyLockState> states) {
    g.handoff().problems().forEach(problems::add);
    if (g.ringProblem() != null) {
      problems.add("owners unknown: " + g.ringProblem());
    }
    for (KeyLockState s : states) {
      for (LockInfo i : s.holders()) {
        if (i.problem() != null) {
          problems.add(i.problem());
        }
      }
      for (LockInfo i : s.waiters()) {
        if (i.problem() != null) {
          problems.add(i.problem());
        }
      }
    }
  }

  private static String primary(Ring ring, String key) {
    Member m = ring.primary(key);
    return m == null ? null : m.id();
  }

  private static void putNullable(ObjectNode o, String field, String value) {
    if (value == null) {
      o.putNull(field);
    } else {
      o.put(field, value);
    }
  }

  private static void table(PrintWriter out, ObjectNode r) {
    out.printf(
        "group %s (%s, P=%d), leader %s, assignment version %d%n",
        r.path("group").asText(),
        r.path("strategy").asText(),
        r.path("partitions").asInt(),
        r.path("leader").isNull() ? "(none)" : r.path("leader").asText(),
        r.path("assignmentVersion").asLong());
    JsonNode h = r.path("handoff");
    if (h.path("inProgress").asBoolean()) {
      out.printf("handoff in progress: waiting for");
      for (JsonNode p : h.path("pending")) {
        out.printf(
            " %s (acknowledged %s, %.1f s)",
            p.path("member").asText(),
            p.path("acknowledged").isNull() ? "nothing" : p.path("acknowledged").asText(),
            p.path("waitingMs").asLong() / 1000.0);
      }
      out.println();
    } else {
      out.printf(
          "stable: every worker acknowledged %s (since %s)%n",
          h.path("state").asText(), Instant.ofEpochMilli(h.path("since").asLong()));
    }
    FleetReports.table(out, r);
    out.printf(
        "%-20s %6s %-8s %-8s %10s %-24s %-8s %6s %10s %7s%n",
        "member", "weight", "zone", "role", "incarn.", "since", "flags", "parts", "quota", "ack");
    for (JsonNode m : r.path("members")) {
      String flags =
          (m.path("leader").asBoolean() ? "L" : "")
              + (m.path("draining").asBoolean() ? "D" : "")
              + (m.path("drainRequested").asBoolean() ? "R" : "");
      out.printf(
          "%-20s %6s %-8s %-8s %10d %-24s %-8s %6s %10s %7s%n",
          m.path("id").asText(),
          m.path("weight").asText(),
          m.path("zone").asText("-"),
          m.path("role").asText(),
          m.path("incarnation").asLong(),
          Instant.ofEpochMilli(m.path("since").asLong()),
          flags.isEmpty() ? "-" : flags,
          m.path("partitions").isNull() ? "-" : m.path("partitions").asText(),
          m.path("quota").isNull() ? "-" : String.format("%.1f", m.path("quota").asDouble()),
          m.path("acknowledged").isNull() ? "-" : m.path("acknowledged").asText());
    }
    JsonNode k = r.path("key");
    if (!k.isMissingNode()) {
      out.printf(
          "key %s: partition %d, owners %s%n",
          k.path("key").asText(), k.path("partition").asInt(), k.path("owners"));
      JsonNode last = k.path("breaks").path(0);
      if (!last.isMissingNode()) {
        out.printf(
            "  last broken at %s by %s (%d holder(s); %d break(s) recorded)%n",
            Instant.ofEpochMilli(last.path("at").asLong()),
            last.path("by").asText(),
            last.path("holders").size(),
            k.path("breaks").size());
      }
    }
    if (r.path("locks").isEmpty()) {
      out.println("no locks");
    }
    for (JsonNode l : r.path("locks")) {
      out.printf(
          "lock %s (partition %d, owner %s)%n",
          l.path("key").asText(),
          l.path("partition").asInt(),
          l.path("owner").isNull() ? "-" : l.path("owner").asText());
      for (JsonNode i : l.path("holders")) {
        lockLine(out, "holds", i);
      }
      int n = 1;
      for (JsonNode i : l.path("waiters")) {
        lockLine(out, "waits #" + n++, i);
      }
    }
    for (JsonNode p : r.path("problems")) {
      out.println("problem: " + p.asText());
    }
  }

  private static void lockLine(PrintWriter out, String what, JsonNode i) {
    out.printf(
        "  %-9s %-20s %-11s token %-14d %7.1f s  %s%n",
        what,
        i.path("member").asText(),
        i.path("mode").asText() + (i.path("subtree").asBoolean() ? "/tree" : ""),
        i.path("token").asLong(),
        i.path("ageMs").asLong() / 1000.0,
        i.path("purpose").asText());
  }
}
