package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.Membership;
import io.ringwork.membership.MembershipListener;
import io.ringwork.membership.View;
import io.ringwork.ring.Member;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.Reports;
import io.ringwork.simulator.cli.RuntimeFailure;
import io.ringwork.simulator.cli.ZooKeeperClients;
import io.ringwork.tooz.ToozGroup;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ringwork join}: join a group and print every membership event as a JSON line. */
@Command(
    name = "join",
    mixinStandardHelpOptions = true,
    description =
        "Join a group and stay joined, printing one JSON object per event (view, suspended,"
            + " resumed, lost, leader). SIGTERM leaves and exits 0.",
    footer = {
      "",
      "Example:",
      "  ringwork join --connect 127.0.0.1:2181 --group conductors --id c-1 --zone b --label hw=ipmi",
      "  ringwork join --connect 127.0.0.1:2181 --layout tooz --group central-global --id java-1",
    })
public final class JoinCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--connect",
      required = true,
      paramLabel = "HOST:PORT",
      description = "ZooKeeper connect string.")
  String connect;

  @Option(names = "--group", required = true, paramLabel = "G", description = "Group name.")
  String group;

  @Option(names = "--id", required = true, paramLabel = "ID", description = "Member id.")
  String id;

  @Option(names = "--weight", paramLabel = "W", description = "Relative capacity (default 1).")
  double weight = 1;

  @Option(
      names = "--layout",
      paramLabel = "LAYOUT",
      description =
          "ringwork (default) or tooz: join a tooz group as join_partitioned_group does"
              + " (/<namespace>/<group>/<id>, msgpack {\"weight\": W}; W a whole number).")
  String layout = "ringwork";

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      description = "With --layout tooz: tooz's namespace (default tooz).")
  String namespace;

  @Option(
      names = "--auth",
      paramLabel = "USER:PASSWORD",
      description = "With --layout tooz: tooz's digest credentials.")
  String auth;

  @Option(names = "--zone", paramLabel = "Z", description = "Failure zone.")
  String zone;

  @Option(names = "--label", paramLabel = "L", description = "A label; repeatable.")
  List<String> labels = new ArrayList<>();

  @Option(
      names = "--session-timeout",
      paramLabel = "MS",
      description = "Session timeout (default 10000).")
  long sessionTimeoutMs = 10_000;

  @Option(
      names = "--connect-timeout",
      paramLabel = "MS",
      description = "How long to wait for ZooKeeper at start (default: twice the session timeout).")
  Long connectTimeoutMs;

  @Option(
      names = "--role",
      paramLabel = "ROLE",
      description =
          "observer (default: seen in views, never given work, never leads) or worker (placed by"
              + " rebalancers in the group: only for a process that does the work).")
  Membership.Role role = Membership.Role.OBSERVER;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (layout.equals("tooz")) {
      return tooz();
    }
    if (!layout.equals("ringwork")) {
      throw new InputException("--layout must be ringwork or tooz, got '" + layout + "'");
    }
    if (namespace != null || auth != null) {
      throw new InputException("--namespace and --auth apply to --layout tooz");
    }
    Member self;
    try {
      self = Member.of(id, weight, zone).withLabels(labels);
    } catch (IllegalArgumentException e) {
      throw new InputException("--id/--weight/--zone/--label: " + e.getMessage());
    }
    if (sessionTimeoutMs < 1) {
      throw new InputException("--session-timeout must be positive, got " + sessionTimeoutMs);
    }
    if (connectTimeoutMs != null && connectTimeoutMs < 1) {
      throw new InputException("--connect-timeout must be positive, got " + connectTimeoutMs);
    }
    PrintWriter out = spec.commandLine().getOut();
    Membership membership;
    try {
      membership =
          Membership.newBuilder()
              .group(group)
              .member(self)
              .connectString(connect)
              .sessionTimeout(Duration.ofMillis(sessionTimeoutMs))
              .connectTimeout(
                  Duration.ofMillis(
                      connectTimeoutMs != null ? connectTimeoutMs : 2 * sessionTimeoutMs))
              .role(role)
              .listener(new Printer(out))
              .build();
    } catch (IllegalArgumentException e) {
      throw new InputException(e.getMessage());
    }
    try {
      membership.start();
    } catch (IllegalStateException e) {
      throw new RuntimeFailure(e.getMessage());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  membership.close();
                  emit(out, "left", n -> {});
                  stopped.countDown();
                  Runtime.getRuntime().halt(0);
                },
                "ringwork-join-leave"));
    stopped.await();
    return 0;
  }

  /** Joins a tooz group and prints its children on every change until SIGTERM. */
  private int tooz() throws Exception {
    if (weight != Math.rint(weight) || weight < 1 || weight > 1_000_000) {
      throw new InputException(
          "--weight must be a whole number from 1 to 1000000 for a tooz group, got " + weight);
    }
    if (zone != null || !labels.isEmpty()) {
      throw new InputException("--zone and --label do not apply to --layout tooz");
    }
    PrintWriter out = spec.commandLine().getOut();
    CuratorFramework client =
        ZooKeeperClients.connect(
            connect,
            auth,
            (int) sessionTimeoutMs,
            connectTimeoutMs != null ? connectTimeoutMs : 2 * sessionTimeoutMs);
    ToozGroup g;
    try {
      g =
          ToozGroup.newBuilder()
              .client(client)
              .namespace(namespace != null ? namespace : ToozGroup.DEFAULT_NAMESPACE)
              .group(group)
              .memberId(id)
              .weight((int) weight)
              .credentials(auth)
              .build();
    } catch (IllegalArgumentException e) {
      client.close();
      throw new InputException(e.getMessage());
    }
    g.onChange(snapshot -> emit(out, "view", n -> tooz(n, snapshot)));
    try {
      g.start();
    } catch (IllegalStateException e) {
      client.close();
      throw new RuntimeFailure(e.getMessage());
    }
    emit(out, "joined", n -> n.put("id", id).put("group", g.path()).put("weight", (int) weight));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  g.close();
                  client.close();
                  emit(out, "left", n -> {});
                  stopped.countDown();
                  Runtime.getRuntime().halt(0);
                },
                "ringwork-join-leave"));
    stopped.await();
    return 0;
  }

  private static void tooz(ObjectNode n, ToozGroup.Snapshot s) {
    n.put("version", s.version());
    ArrayNode members = n.putArray("members");
    for (ToozGroup.Child c : s.members()) {
      members.addObject().put("id", c.id()).put("weight", c.weight());
    }
    ArrayNode problems = n.putArray("problems");
    for (ToozGroup.Child c : s.problems()) {
      problems.addObject().put("id", c.id()).put("problem", c.flag());
    }
  }

  static void emit(PrintWriter out, String event, Consumer<ObjectNode> fill) {
    ObjectNode n = JSON.createObjectNode();
    n.put("format", Reports.FORMAT);
    n.put("event", event);
    fill.accept(n);
    n.put("ts", System.currentTimeMillis());
    synchronized (out) {
      out.println(n.toString());
      out.flush();
    }
  }

  static void members(ObjectNode n, View view) {
    ArrayNode array = n.putArray("members");
    for (MemberInfo m : view.members()) {
      ObjectNode o = array.addObject();
      o.put("id", m.id());
      o.put("weight", m.member().weight());
      m.member().zone().ifPresent(z -> o.put("zone", z));
      ArrayNode labels = o.putArray("labels");
      m.member().labels().forEach(labels::add);
      o.put("draining", m.draining());
      o.put("incarnation", m.incarnation());
      o.put("since", m.since());
      o.put("role", m.role().name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  /** Prints membership events. */
  private record Printer(PrintWriter out) implements MembershipListener {
    @Override
    public void onView(View view) {
      emit(
          out,
          "view",
          n -> {
            n.put("version", view.version());
            members(n, view);
            if (view.leader().isPresent()) {
              n.put("leader", view.leader().get());
            } else {
              n.putNull("leader");
            }
          });
    }

    @Override
    public void onSuspended() {
      emit(out, "suspended", n -> {});
    }

    @Override
    public void onResumed() {
      emit(out, "resumed", n -> {});
    }

    @Override
    public void onLost() {
      emit(out, "lost", n -> {});
    }

    @Override
    public void onLeadership(boolean leader) {
      emit(out, "leader", n -> n.put("leader", leader));
    }
  }
}
