package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.FleetState;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.simulator.cli.ConnectTimeoutOption;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.Reports;
import io.ringwork.simulator.cli.ZooKeeperClients;
import io.ringwork.tooz.ToozGroup;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ringwork members}: who is in a group, who leads it, and who owns how much. */
@Command(
    name = "members",
    mixinStandardHelpOptions = true,
    description =
        "List a group's live members, its leader, its assignment version and each member's partition count.",
    footer = {
      "",
      "Example:",
      "  ringwork members --connect 127.0.0.1:2181 --group conductors --format json"
    })
public final class MembersCommand implements Callable<Integer> {

  @Option(
      names = "--connect",
      required = true,
      paramLabel = "HOST:PORT",
      description = "ZooKeeper connect string.")
  String connect;

  @Option(names = "--group", required = true, paramLabel = "G", description = "Group name.")
  String group;

  @Option(
      names = "--namespace",
      paramLabel = "PATH",
      description = "Namespace (default /ringwork; tooz for --layout tooz).")
  String namespace;

  @Option(
      names = "--layout",
      paramLabel = "LAYOUT",
      description =
          "ringwork (default) or tooz: a tooz group's children with their weights, each one"
              + " Python members fail on flagged.")
  String layout = "ringwork";

  @Option(
      names = "--auth",
      paramLabel = "USER:PASSWORD",
      description = "With --layout tooz: tooz's digest credentials.")
  String auth;

  @Option(names = "--format", paramLabel = "FORMAT", description = "table (default) or json.")
  String format = "table";

  @CommandLine.Mixin ConnectTimeoutOption connectTimeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("table") && !format.equals("json")) {
      throw new InputException("--format must be table or json, got '" + format + "'");
    }
    if (layout.equals("tooz")) {
      return tooz();
    }
    if (!layout.equals("ringwork")) {
      throw new InputException("--layout must be ringwork or tooz, got '" + layout + "'");
    }
    if (namespace == null) {
      namespace = "/ringwork";
    }
    try (CuratorFramework client = ZooKeeperClients.connect(connect, null, connectTimeout)) {
      String groupPath;
      try {
        groupPath = GroupPaths.of(namespace, group).root();
      } catch (IllegalArgumentException e) {
        throw new InputException("--namespace/--group: " + e.getMessage());
      }
      if (client.checkExists().forPath(groupPath) == null) {
        throw new InputException(
            "--group " + group + ": no such group at " + groupPath + " on " + connect);
      }
      GroupStatus status = GroupStatus.read(client, groupPath);
      PrintWriter out = spec.commandLine().getOut();
      if (format.equals("json")) {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("format", Reports.FORMAT);
        root.put("group", group);
        if (status.leader() != null) {
          root.put("leader", status.leader());
        } else {
          root.putNull("leader");
        }
        root.put("assignmentVersion", status.assignmentVersion());
        ArrayNode members = root.putArray("members");
        for (GroupStatus.Row r : status.members()) {
          ObjectNode o = members.addObject();
          o.put("id", r.id());
          JsonNode data = r.data();
          o.set("weight", data.path("weight"));
          if (data.has("zone")) {
            o.set("zone", data.get("zone"));
          }
          o.set("labels", data.path("labels"));
          o.put("role", data.path("role").asText("worker"));
          o.put("draining", data.path("draining").asBoolean(false));
          o.put("incarnation", r.incarnation());
          o.put("since", r.since());
          o.put("partitions", r.partitions());
        }
        FleetReports.fill(
            root,
            FleetState.read(client, new GroupPaths(groupPath)),
            FleetReports.ringOrNull(client, groupPath),
            System.currentTimeMillis());
        out.println(root.toPrettyString());
      } else {
        out.printf(
            "group %s, leader %s, assignment version %d%n",
            group,
            status.leader() == null ? "(none)" : status.leader(),
            status.assignmentVersion());
        out.printf(
            "%-24s %7s %-10s %-20s %10s %-24s %10s%n",
            "member", "weight", "zone", "labels", "incarnation", "since", "partitions");
        for (GroupStatus.Row r : status.members()) {
          JsonNode d = r.data();
          out.printf(
              "%-24s %7s %-10s %-20s %10d %-24s %10d%n",
              r.id(),
              d.path("weight").asText(),
              d.path("zone").asText("-"),
              d.path("labels").toString(),
              r.incarnation(),
              Instant.ofEpochMilli(r.since()),
              r.partitions());
        }
        ObjectNode controls = new ObjectMapper().createObjectNode();
        FleetReports.fill(
            controls,
            FleetState.read(client, new GroupPaths(groupPath)),
            FleetReports.ringOrNull(client, groupPath),
            System.currentTimeMillis());
        FleetReports.table(out, controls);
      }
      out.flush();
      return 0;
    }
  }

  /** A tooz group as its Python members read it. */
  private int tooz() throws Exception {
    String ns = namespace != null ? namespace : ToozGroup.DEFAULT_NAMESPACE;
    String path;
    try {
      ToozGroup.checkId("--group", group);
      path = ToozGroup.namespacePath(ns) + "/" + group;
    } catch (IllegalArgumentException e) {
      throw new InputException(e.getMessage());
    }
    try (CuratorFramework client = ZooKeeperClients.connect(connect, auth, connectTimeout)) {
      if (client.checkExists().forPath(path) == null) {
        throw new InputException(
            "--group " + group + ": no such tooz group at " + path + " on " + connect);
      }
      ToozGroup.Snapshot s = ToozGroup.read(client, ns, group);
      PrintWriter out = spec.commandLine().getOut();
      if (format.equals("json")) {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("format", Reports.FORMAT);
        root.put("group", group);
        root.put("layout", "tooz");
        ArrayNode members = root.putArray("members");
        for (ToozGroup.Child c : s.children()) {
          ObjectNode o = members.addObject();
          o.put("id", c.id());
          if (c.member()) {
            o.put("weight", c.weight());
          } else {
            o.putNull("weight");
          }
          o.put("ephemeral", !c.persistent());
          o.put("inRing", c.member());
          if (c.flag() != null) {
            o.put("problem", c.flag());
          } else {
            o.putNull("problem");
          }
          if (c.note() != null) {
            o.put("note", c.note());
          }
        }
        root.put("problems", s.problems().size());
        out.println(root.toPrettyString());
      } else {
        out.printf("tooz group %s (%s), %d children%n", group, path, s.children().size());
        out.printf("%-24s %7s %-9s %s%n", "member", "weight", "node", "problem");
        for (ToozGroup.Child c : s.children()) {
          out.printf(
              "%-24s %7s %-9s %s%n",
              c.id(),
              c.member() ? Integer.toString(c.weight()) : "-",
              c.persistent() ? "PERSIST" : "ephemeral",
              c.flag() != null ? "!! " + c.flag() : (c.note() != null ? c.note() : ""));
        }
        if (!s.problems().isEmpty()) {
          out.printf(
              "%d child(ren) flagged: Python members of this group fail or disagree until they are"
                  + " removed%n",
              s.problems().size());
        }
      }
      out.flush();
      return 0;
    }
  }
}
