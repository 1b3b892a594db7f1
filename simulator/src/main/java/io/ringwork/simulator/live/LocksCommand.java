package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.lock.KeyLockState;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockBreak;
import io.ringwork.lock.LockInfo;
import io.ringwork.rebalancer.GroupStatus;
import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import io.ringwork.ring.Ring;
import io.ringwork.simulator.cli.GroupOptions;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.LiveGroups;
import io.ringwork.simulator.cli.Reports;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ringwork locks}: who holds and who waits for which key, and a forced break. */
@Command(
    name = "locks",
    mixinStandardHelpOptions = true,
    header = "List a group's per-key locks and waiters, or break a lock with --force.",
    description = {
      "List a group's per-key locks: each key's partition, its owner, its holders and its",
      "waiters (member, mode, token, since, purpose), then the recorded breaks (newest first).",
      "--break KEY --force breaks the holders of KEY (they are told LOST; a fenced store rejects",
      "their later writes) and records who broke which holder, and when, in ZooKeeper (the group",
      "keeps the newest 100 records, none older than 7 days)."
    },
    footer = {
      "",
      "Examples:",
      "  ringwork locks --connect 127.0.0.1:2181 --group conductors --format json",
      "  ringwork locks --connect 127.0.0.1:2181 --group conductors --break node-7 --force"
    })
public final class LocksCommand implements Callable<Integer> {

  /** Recorded breaks the table shows, newest first. */
  private static final int BREAKS_SHOWN = 10;

  @CommandLine.Mixin GroupOptions live;

  @Option(
      names = "--key",
      paramLabel = "K",
      description = "Only this key (and subtree locks covering it).")
  String key;

  @Option(names = "--format", paramLabel = "FORMAT", description = "table (default) or json.")
  String format = "table";

  @Option(
      names = "--break",
      paramLabel = "KEY",
      description = "Break the locks held on KEY (needs --force).")
  String breakKey;

  @Option(names = "--force", description = "Confirm --break: the holders may be alive.")
  boolean force;

  @Option(
      names = "--by",
      paramLabel = "NAME",
      description =
          "With --break: who breaks (a member-id-like name, e.g. ops-alice), logged by the lock"
              + " service and printed (default: ringwork-locks-PID).")
  String by;

  @Option(
      names = "--route-until",
      paramLabel = "C",
      description =
          "Route keys up to the first C; by default the router stored in the group's config"
              + " (else the whole key).")
  Character routeUntil;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("table") && !format.equals("json")) {
      throw new InputException("--format must be table or json, got '" + format + "'");
    }
    if (breakKey != null && !force) {
      throw new InputException(
          "--break "
              + breakKey
              + " needs --force: breaking a live holder is an operator's decision"
              + " (it is fenced by every later token)");
    }
    if ((force || by != null) && breakKey == null) {
      throw new InputException("--force and --by only go with --break KEY");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (CuratorFramework client = live.client()) {
      String groupPath =
          LiveGroups.existingGroup(client, live.connect(), live.namespace(), live.group());
      KeyRouter router = LiveGroups.router(client, groupPath, routeUntil);
      KeyLocks reader;
      try {
        reader =
            by != null
                ? LiveGroups.reader(client, live.namespace(), live.group(), by, router)
                : LiveGroups.reader(
                    client,
                    live.namespace(),
                    live.group(),
                    "ringwork-locks-" + ProcessHandle.current().pid(),
                    router);
      } catch (IllegalArgumentException e) {
        throw new InputException("--by " + by + ": " + e.getMessage());
      }
      try (KeyLocks locks = reader) {
        if (breakKey != null) {
          breakLock(locks, out);
          return 0;
        }
        List<KeyLockState> states = states(locks);
        Ring ring = null;
        try {
          ring = GroupStatus.liveRing(client, groupPath, router);
        } catch (IllegalArgumentException e) {
          // no config or no live workers: no owners to show
        }
        long now = System.currentTimeMillis();
        if (format.equals("json")) {
          json(out, locks, states, ring, now);
        } else {
          table(out, locks, states, ring, now);
        }
        out.flush();
        return 0;
      }
    }
  }

  /** Breaks the locks on {@code --break KEY} and says how many. */
  private void breakLock(KeyLocks locks, PrintWriter out) throws Exception {
    int broken;
    try {
      broken = locks.breakLock(breakKey, true);
    } catch (IllegalArgumentException e) {
      throw new InputException("--break: " + e.getMessage());
    }
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("format", Reports.FORMAT);
    o.put("key", breakKey);
    o.put("broken", broken);
    o.put("by", locks.memberId());
    out.println(
        format.equals("json")
            ? o.toPrettyString()
            : "broke " + broken + " lock(s) on " + breakKey + " as " + locks.memberId());
    out.flush();
  }

  /** The lock state of {@code --key}, or of every key. */
  private List<KeyLockState> states(KeyLocks locks) throws Exception {
    List<KeyLockState> states;
    if (key != null) {
      try {
        states = List.of(locks.inspect(key));
      } catch (IllegalArgumentException e) {
        throw new InputException("--key: " + e.getMessage());
      }
    } else {
      states = locks.inspectAll();
    }
    return states;
  }

  private void json(PrintWriter out, KeyLocks locks, List<KeyLockState> states, Ring ring, long now)
      throws Exception {
    ObjectNode root = new ObjectMapper().createObjectNode();
    root.put("format", Reports.FORMAT);
    root.put("group", live.group());
    ArrayNode arr = root.putArray("locks");
    for (KeyLockState s : states) {
      ObjectNode o = arr.addObject();
      o.put("key", s.key());
      o.put("partition", s.partition());
      String owner = owner(ring, s.key());
      if (owner == null) {
        o.putNull("owner");
      } else {
        o.put("owner", owner);
      }
      LockReports.fill(o.putArray("holders"), s.holders(), now);
      LockReports.fill(o.putArray("waiters"), s.waiters(), now);
    }
    LockReports.fillBreaks(root.putArray("breaks"), LockReports.breaks(locks, key));
    out.println(root.toPrettyString());
  }

  private void table(
      PrintWriter out, KeyLocks locks, List<KeyLockState> states, Ring ring, long now)
      throws Exception {
    out.printf(
        "%-24s %5s %-12s %-7s %-16s %-11s %14s %-20s %8s  %s%n",
        "key", "part", "owner", "state", "member", "mode", "token", "since", "age", "purpose");
    for (KeyLockState s : states) {
      String owner = owner(ring, s.key());
      for (LockInfo i : s.holders()) {
        row(out, s, owner, "holds", i, now);
      }
      for (LockInfo i : s.waiters()) {
        row(out, s, owner, "waits", i, now);
      }
    }
    List<LockBreak> breaks = LockReports.breaks(locks, key);
    for (LockBreak b : breaks.subList(0, Math.min(BREAKS_SHOWN, breaks.size()))) {
      out.println(LockReports.describe(b));
    }
    if (breaks.size() > BREAKS_SHOWN) {
      out.printf("(%d older breaks: --format json lists them)%n", breaks.size() - BREAKS_SHOWN);
    }
  }

  private static String owner(Ring ring, String key) {
    if (ring == null) {
      return null;
    }
    Member m = ring.primary(key);
    return m == null ? null : m.id();
  }

  private static void row(
      PrintWriter out, KeyLockState s, String owner, String state, LockInfo i, long now) {
    out.printf(
        "%-24s %5d %-12s %-7s %-16s %-11s %14d %-20s %7.1fs  %s%s%n",
        s.key(),
        s.partition(),
        owner == null ? "-" : owner,
        state,
        i.member(),
        i.mode().wireName() + (i.subtree() ? "/tree" : ""),
        i.token(),
        Instant.ofEpochMilli(i.since()).truncatedTo(ChronoUnit.SECONDS),
        i.ageMillis(now) / 1000.0,
        i.purpose(),
        i.problem() == null ? "" : "  [" + i.problem() + "]");
  }
}
