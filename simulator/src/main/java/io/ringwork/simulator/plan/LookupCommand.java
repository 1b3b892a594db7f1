package io.ringwork.simulator.plan;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.ringwork.membership.GroupPaths;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.ring.Assignment;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Ring;
import io.ringwork.ring.ToozRing;
import io.ringwork.simulator.cli.ConnectTimeoutOption;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.LiveGroups;
import io.ringwork.simulator.cli.ZooKeeperClients;
import io.ringwork.tooz.ToozGroup;
import io.ringwork.tooz.ToozPartitioner;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ringwork lookup}: who owns these keys? */
@Command(
    name = "lookup",
    mixinStandardHelpOptions = true,
    description = "Print the owners of keys: KEY<TAB>OWNER[,OWNER...], primary first.",
    footer = {
      "",
      "Keys come as arguments, from --keys FILE, or from standard input, one per line (UTF-8).",
      "",
      "Examples:",
      "  ringwork lookup --strategy tooz --member foo --member bar --member baz fake 1234",
      "  ringwork lookup --cluster fleet.yaml --replicas 2 --keys nodes.txt",
      "  seq 1000000 | ringwork lookup --member a --member b=2 > owners.tsv",
      "  ringwork lookup --connect 127.0.0.1:2181 --group conductors node-1 node-2",
      "  ringwork lookup --connect 127.0.0.1:2181 --layout tooz --group central --partitions 32",
    })
public final class LookupCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--ignore",
      paramLabel = "ID",
      description = "tooz only: skip this member while walking the ring; repeatable.")
  List<String> ignore = new ArrayList<>();

  @Option(names = "--keys", paramLabel = "FILE", description = "Read keys from FILE.")
  Path keysFile;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      description = "tsv (default) or json (one object per line).")
  String format = "tsv";

  @Option(
      names = "--connect",
      paramLabel = "HOST:PORT",
      description =
          "Answer from a live group's table in force (with --group) instead of computing one from"
              + " --cluster/--member.")
  String connect;

  @Option(names = "--group", paramLabel = "G", description = "With --connect: the group.")
  String group;

  @Option(
      names = "--namespace",
      paramLabel = "PATH",
      description = "With --connect: the namespace (default /ringwork; tooz for --layout tooz).")
  String namespace;

  @Option(
      names = "--layout",
      paramLabel = "LAYOUT",
      description =
          "With --connect: ringwork (default: the group's table in force) or tooz (a tooz"
              + " group's members, as tooz's Partitioner with --partitions points per weight,"
              + " default 32, and --replicas).")
  String layout = "ringwork";

  @Option(
      names = "--auth",
      paramLabel = "USER:PASSWORD",
      description = "With --layout tooz: tooz's digest credentials (zookeeper://user:pass@...).")
  String auth;

  @Option(
      names = "--route-until",
      paramLabel = "C",
      description =
          "With --connect: route on the key up to the first C (KeyRouter.upTo(C)); default: the"
              + " router stored in the group's config, else the whole key.")
  Character routeUntil;

  @Parameters(paramLabel = "KEY", description = "Keys to look up.")
  List<String> keys = new ArrayList<>();

  @CommandLine.Mixin ConnectTimeoutOption connectTimeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("tsv") && !format.equals("json")) {
      throw new InputException("--format must be tsv or json, got '" + format + "'");
    }
    Owners owners;
    if (connect != null) {
      owners = liveOwners();
    } else {
      if (group != null) {
        throw new InputException("--group applies only with --connect");
      }
      ClusterOptions.Setup setup = cluster.resolve();
      if (!ignore.isEmpty() && setup.partitioned()) {
        throw new InputException("--ignore applies to the tooz strategy only");
      }
      owners = owners(setup);
    }
    boolean json = format.equals("json");
    PrintWriter out = spec.commandLine().getOut();
    Writer w = new BufferedWriter(out, 1 << 16);
    if (!keys.isEmpty()) {
      for (String k : keys) {
        write(w, k, owners, json);
      }
    } else {
      InputStream in;
      if (keysFile != null) {
        try {
          in = new FileInputStream(keysFile.toFile());
        } catch (IOException e) {
          throw new InputException(keysFile + ": cannot read keys: " + e.getMessage());
        }
      } else {
        in = System.in;
      }
      try (BufferedReader r =
          new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
        String line;
        while ((line = r.readLine()) != null) {
          write(w, line, owners, json);
        }
      }
    }
    w.flush();
    return 0;
  }

  /**
   * The owners from the live group's table in force (issue 13, item 9): a fresh table computed from
   * the members would disagree with a sticky balanced table on most keys.
   */
  private Owners liveOwners() throws Exception {
    if (group == null) {
      throw new InputException("--connect needs --group");
    }
    if (layout.equals("tooz")) {
      return toozOwners();
    }
    if (!layout.equals("ringwork")) {
      throw new InputException("--layout must be ringwork or tooz, got '" + layout + "'");
    }
    if (namespace == null) {
      namespace = "/ringwork";
    }
    if (cluster.cluster != null
        || !cluster.members.isEmpty()
        || cluster.strategy != null
        || cluster.partitions != null
        || cluster.replicas != null) {
      throw new InputException(
          "--connect reads the group's own settings and members: drop --cluster, --member,"
              + " --strategy, --partitions and --replicas");
    }
    String groupPath;
    try {
      groupPath = GroupPaths.of(namespace, group).root();
    } catch (IllegalArgumentException e) {
      throw new InputException("--namespace/--group: " + e.getMessage());
    }
    Ring ring;
    try (CuratorFramework client = ZooKeeperClients.connect(connect, null, connectTimeout)) {
      KeyRouter router = LiveGroups.router(client, groupPath, routeUntil);
      try {
        ring = GroupStatus.liveRing(client, groupPath, router);
      } catch (IllegalArgumentException e) {
        throw new InputException("--group " + group + ": " + e.getMessage() + " on " + connect);
      }
    }
    if (ring instanceof ToozRing tooz) {
      List<String> skip = List.copyOf(ignore);
      return (w, key, json) -> appendAll(w, tooz.owners(key, tooz.replicas(), skip), json);
    }
    if (!ignore.isEmpty()) {
      throw new InputException("--ignore applies to the tooz strategy only");
    }
    return (w, key, json) -> appendAll(w, ring.owners(key), json);
  }

  /** The owners in a live tooz group, as its Python members' Partitioner computes them. */
  private Owners toozOwners() throws Exception {
    if (cluster.cluster != null || !cluster.members.isEmpty() || cluster.strategy != null) {
      throw new InputException(
          "--layout tooz reads the members of the live group: drop --cluster, --member and"
              + " --strategy");
    }
    int points = cluster.partitions != null ? cluster.partitions : 32;
    int replicas = cluster.replicas != null ? cluster.replicas : 1;
    if (points < 1 || replicas < 1) {
      throw new InputException("--partitions and --replicas must be at least 1");
    }
    try {
      ToozGroup.checkId("--group", group);
    } catch (IllegalArgumentException e) {
      throw new InputException(e.getMessage());
    }
    String ns = namespace != null ? namespace : ToozGroup.DEFAULT_NAMESPACE;
    ToozGroup.Snapshot snapshot;
    try (CuratorFramework client = ZooKeeperClients.connect(connect, auth, connectTimeout)) {
      snapshot = ToozGroup.read(client, ns, group);
    }
    PrintWriter err = spec.commandLine().getErr();
    for (ToozGroup.Child c : snapshot.problems()) {
      err.println(
          "ringwork: warning: tooz group " + group + ": child '" + c.id() + "' " + c.flag());
    }
    err.flush();
    ToozRing ring = ToozPartitioner.ring(snapshot, points, replicas);
    if (ring == null) {
      throw new InputException(
          "--group "
              + group
              + ": the tooz group has no readable member in /"
              + ns.replaceFirst("^/", "")
              + " on "
              + connect);
    }
    List<String> skip = List.copyOf(ignore);
    return (w, key, json) -> appendAll(w, ring.owners(key, replicas, skip), json);
  }

  /** The owners of a key as text, primary first, comma-separated. */
  interface Owners {
    void append(Writer w, String key, boolean json) throws IOException;
  }

  private Owners owners(ClusterOptions.Setup setup) {
    List<Member> members = setup.members();
    if (!setup.partitioned()) {
      ToozRing ring;
      try {
        ring = ToozRing.of(members, setup.partitions(), setup.replicas());
      } catch (IllegalArgumentException e) {
        throw new InputException(e.getMessage());
      }
      List<String> skip = List.copyOf(ignore);
      return (w, key, json) -> appendAll(w, ring.owners(key, setup.replicas(), skip), json);
    }
    Assignment a = setup.partitionPlacement(null).assign(null, members);
    if (a.ownersPerPartition() == 1) {
      return (w, key, json) -> {
        String id = a.primary(key).id();
        if (json) {
          w.write('"');
          w.write(JsonStringEncoder.getInstance().quoteAsString(id));
          w.write('"');
        } else {
          w.write(id);
        }
      };
    }
    return (w, key, json) -> appendAll(w, a.owners(key), json);
  }

  private static void appendAll(Writer w, List<Member> members, boolean json) throws IOException {
    for (int i = 0; i < members.size(); i++) {
      if (i > 0) {
        w.write(',');
      }
      if (json) {
        w.write('"');
        w.write(JsonStringEncoder.getInstance().quoteAsString(members.get(i).id()));
        w.write('"');
      } else {
        w.write(members.get(i).id());
      }
    }
  }

  private static void write(Writer w, String key, Owners owners, boolean json) throws IOException {
    if (json) {
      w.write("{\"format\":1,\"key\":\"");
      w.write(JsonStringEncoder.getInstance().quoteAsString(key));
      w.write("\",\"owners\":[");
      owners.append(w, key, true);
      w.write("]}\n");
    } else {
      w.write(key);
      w.write('\t');
      owners.append(w, key, false);
      w.write('\n');
    }
  }
}
