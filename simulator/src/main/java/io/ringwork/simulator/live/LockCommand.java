package io.ringwork.simulator.live;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ringwork.lock.KeyLocks;
import io.ringwork.lock.LockHandle;
import io.ringwork.lock.LockMode;
import io.ringwork.lock.LockRequest;
import io.ringwork.lock.LockTimeoutException;
import io.ringwork.lock.ReleaseOutcome;
import io.ringwork.ring.KeyRouter;
import io.ringwork.simulator.cli.ConnectTimeoutOption;
import io.ringwork.simulator.cli.InputException;
import io.ringwork.simulator.cli.LiveGroups;
import io.ringwork.simulator.cli.Reports;
import io.ringwork.simulator.cli.ZooKeeperClients;
import io.ringwork.tooz.ToozGroup;
import io.ringwork.tooz.ToozLock;
import io.ringwork.tooz.ToozLocks;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ringwork lock}: takes a per-key lock in a group, holds it, releases it, and says so in one
 * JSON line per event: what a script (or a fault test) uses to lock a resource.
 */
@Command(
    name = "lock",
    mixinStandardHelpOptions = true,
    header = "Take a per-key lock in an existing group, hold it and release it.",
    description = {
      "One JSON line per event, each with \"format\":1:",
      "  {\"format\":1,\"event\":\"acquired\",\"key\":K,\"mode\":M,\"token\":T,\"ts\":EPOCH_MS,...}",
      "  {\"format\":1,\"event\":\"released\",\"key\":K,\"token\":T,\"outcome\":O,...}",
      "  {\"event\":\"lost\",...}   {\"event\":\"timeout\",\"key\":K,\"blocker\":B,...}",
      "SIGINT or SIGTERM releases the lock held and prints released with \"signal\":true",
      "(exit 130 or 143); while still waiting it prints interrupted.",
      "The group must exist (an agent creates it); a missing one exits 2.",
      "Exit status: 0 every acquisition succeeded, 3 a timeout, 1 a runtime failure (a lost",
      "lock, no ZooKeeper), 2 bad usage."
    },
    footer = {
      "",
      "Example:",
      "  ringwork lock --connect 127.0.0.1:2181 --group conductors --id admin-1 --key node-7 \\",
      "      --mode exclusive --hold 5000 --purpose 'firmware update'",
      "  ringwork lock --connect 127.0.0.1:2181 --layout tooz --id java-1 --key volume-42 --hold 1000"
    })
public final class LockCommand implements Callable<Integer> {

  static final int EXIT_TIMEOUT = 3;

  /** How long a signal waits for the release before the JVM exits anyway. */
  private static final long RELEASE_ON_SIGNAL_MS = 10_000;

  @Option(
      names = "--connect",
      required = true,
      paramLabel = "HOST:PORT",
      description = "ZooKeeper connect string.")
  String connect;

  @Option(
      names = "--group",
      paramLabel = "G",
      description = "Group name (ringwork layout; a tooz lock needs none).")
  String group;

  @Option(
      names = "--layout",
      paramLabel = "LAYOUT",
      description =
          "ringwork (default) or tooz: a lock that excludes with tooz's get_lock(K) on the same"
              + " name (/<namespace>/locks/K; shared holders as -read__lock__ contenders).")
  String layout = "ringwork";

  @Option(
      names = "--auth",
      paramLabel = "USER:PASSWORD",
      description = "With --layout tooz: tooz's digest credentials.")
  String auth;

  @Option(
      names = "--id",
      required = true,
      paramLabel = "ID",
      description = "This holder's member id.")
  String id;

  @Option(names = "--key", required = true, paramLabel = "K", description = "The key to lock.")
  String key;

  @Option(
      names = "--mode",
      paramLabel = "MODE",
      description = "shared, upgradable or exclusive (default).")
  String mode = "exclusive";

  @Option(
      names = "--subtree",
      description = "Also lock every key below K (K/...); needs a group routing up to '/'.")
  boolean subtree;

  @Option(
      names = "--route-until",
      paramLabel = "C",
      description =
          "Route keys up to the first C; by default the router stored in the group's config"
              + " (else the whole key).")
  Character routeUntil;

  @Option(
      names = "--hold",
      paramLabel = "MS",
      description = "How long to hold each lock (default 0).")
  long holdMs;

  @Option(
      names = "--repeat",
      paramLabel = "N",
      description = "Acquire and release N times (default 1).")
  int repeat = 1;

  @Option(
      names = "--timeout",
      paramLabel = "MS",
      description = "How long to wait for each lock (default 30000).")
  long timeoutMs = 30_000;

  @Option(
      names = "--purpose",
      paramLabel = "TEXT",
      description = "What the lock is for, shown by 'ringwork locks'.")
  String purpose = "";

  @Option(
      names = "--session-timeout",
      paramLabel = "MS",
      description = "ZooKeeper session timeout (default 10000).")
  int sessionTimeoutMs = 10_000;

  @Option(
      names = "--namespace",
      paramLabel = "PATH",
      description = "Namespace (default /ringwork; tooz for --layout tooz).")
  String namespace;

  @CommandLine.Mixin ConnectTimeoutOption connectTimeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() throws Exception {
    LockRequest request;
    LockMode lockMode;
    try {
      lockMode = LockMode.parse(mode);
      request =
          new LockRequest(
              key, lockMode, subtree, purpose, Duration.ofMillis(Math.max(0, timeoutMs)));
    } catch (IllegalArgumentException e) {
      throw new InputException("--key/--mode/--purpose: " + e.getMessage());
    }
    if (repeat < 1 || repeat > 1_000_000) {
      throw new InputException("--repeat must be between 1 and 1000000, got " + repeat);
    }
    if (holdMs < 0 || timeoutMs < 0) {
      throw new InputException("--hold and --timeout must not be negative");
    }
    if (sessionTimeoutMs < 1000 || sessionTimeoutMs > 600_000) {
      throw new InputException(
          "--session-timeout must be between 1000 and 600000 ms, got " + sessionTimeoutMs);
    }
    boolean tooz = layout.equals("tooz");
    if (!tooz && !layout.equals("ringwork")) {
      throw new InputException("--layout must be ringwork or tooz, got '" + layout + "'");
    }
    if (tooz && (lockMode == LockMode.UPGRADABLE || subtree || routeUntil != null)) {
      throw new InputException(
          "--layout tooz locks are shared or exclusive, without --subtree or --route-until");
    }
    if (!tooz && group == null) {
      throw new InputException("--group is required (but with --layout tooz)");
    }
    if (!tooz && auth != null) {
      throw new InputException("--auth applies to --layout tooz");
    }
    PrintWriter out = spec.commandLine().getOut();
    CuratorFramework client =
        ZooKeeperClients.connect(connect, auth, sessionTimeoutMs, connectTimeout.millis());
    try {
      if (tooz) {
        return tooz(client, lockMode, out);
      }
      if (namespace == null) {
        namespace = "/ringwork";
      }
      String groupPath = LiveGroups.existingGroup(client, connect, namespace, group);
      KeyRouter router = LiveGroups.router(client, groupPath, routeUntil);
      KeyLocks locks;
      try {
        locks =
            KeyLocks.newBuilder()
                .client(client)
                .namespace(namespace)
                .group(group)
                .memberId(id)
                .router(router)
                .build();
      } catch (IllegalArgumentException e) {
        throw new InputException("--namespace/--group/--id: " + e.getMessage());
      }
      try (locks) {
        locks.start();
        return holdLoop(
            () -> {
              LockHandle h = locks.acquire(request);
              return new Held(
                  h.token(),
                  h::onLost,
                  h::release,
                  o -> o.put("partition", h.partition()),
                  () -> String.valueOf(h.lostReason()));
            },
            lockMode,
            out);
      }
    } finally {
      client.close();
    }
  }

  /** The tooz layout: a lock kazoo's and tooz's get_lock(K) respect. */
  private int tooz(CuratorFramework client, LockMode lockMode, PrintWriter out)
      throws InterruptedException {
    ToozLocks locks;
    try {
      locks =
          ToozLocks.newBuilder()
              .client(client)
              .namespace(namespace != null ? namespace : ToozGroup.DEFAULT_NAMESPACE)
              .memberId(id)
              .credentials(auth)
              .build();
      locks.lockPath(key);
    } catch (IllegalArgumentException e) {
      throw new InputException("--namespace/--id/--key: " + e.getMessage());
    }
    try (locks) {
      return holdLoop(
          () -> {
            ToozLock h = locks.acquire(key, lockMode, Duration.ofMillis(timeoutMs));
            return new Held(
                h.token(), h::onLost, h::release, o -> o.put("path", h.path()), () -> null);
          },
          lockMode,
          out);
    }
  }

  /** A lock held, as the loop below reports it, whichever layout took it. */
  private record Held(
      long token,
      Consumer<Runnable> onLost,
      Supplier<ReleaseOutcome> release,
      Consumer<ObjectNode> describe,
      Supplier<String> lostReason) {}

  /** Takes a lock of either layout. */
  private interface Acquire {
    Held acquire() throws LockTimeoutException, InterruptedException;
  }

  /**
   * Acquires, holds and releases {@code --repeat} times, one JSON line per event. SIGINT or SIGTERM
   * ends the hold early: the lock is released and {@code released} printed with {@code
   * "signal":true} before the JVM exits (130 or 143), so that the next holder does not wait for
   * this session to expire.
   */
  private int holdLoop(Acquire acquire, LockMode lockMode, PrintWriter out)
      throws InterruptedException {
    CompletableFuture<Void> signalled = new CompletableFuture<>();
    CountDownLatch finished = new CountDownLatch(1);
    Thread main = Thread.currentThread();
    AtomicBoolean holding = new AtomicBoolean();
    Thread hook =
        new Thread(
            () -> {
              signalled.complete(null);
              if (!holding.get()) {
                main.interrupt(); // waiting for a lock: stop waiting, withdraw the request
              }
              try {
                finished.await(RELEASE_ON_SIGNAL_MS, TimeUnit.MILLISECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "ringwork-lock-release");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return holdLoop(acquire, lockMode, out, signalled, holding);
    } catch (InterruptedException e) {
      if (signalled.isDone()) {
        emit(out, event("interrupted"));
        return CommandLine.ExitCode.SOFTWARE;
      }
      throw e;
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it returns once finished is counted down
      }
    }
  }

  private int holdLoop(
      Acquire acquire,
      LockMode lockMode,
      PrintWriter out,
      CompletableFuture<Void> signalled,
      AtomicBoolean holding)
      throws InterruptedException {
    for (int i = 0; i < repeat && !signalled.isDone(); i++) {
      Held h;
      try {
        h = acquire.acquire();
      } catch (LockTimeoutException e) {
        ObjectNode o = event("timeout");
        o.put("blocker", e.blocker());
        o.put("message", e.getMessage());
        emit(out, o);
        return EXIT_TIMEOUT;
      }
      holding.set(true);
      CompletableFuture<String> end = new CompletableFuture<>();
      h.onLost().accept(() -> end.complete("lost"));
      signalled.thenRun(() -> end.complete("signal"));
      ObjectNode acquired = event("acquired");
      acquired.put("mode", lockMode.wireName());
      acquired.put("token", h.token());
      h.describe().accept(acquired);
      emit(out, acquired);
      String why;
      try {
        why = end.get(holdMs, TimeUnit.MILLISECONDS);
      } catch (TimeoutException held) {
        why = null;
      } catch (InterruptedException e) {
        if (!signalled.isDone()) {
          h.release().get();
          throw e;
        }
        why = "signal"; // the hook saw no lock yet and interrupted: release all the same
      } catch (ExecutionException e) {
        throw new IllegalStateException(e);
      }
      if (why != null) {
        Thread.interrupted(); // a stray interrupt of the hook must not cut the release short
      }
      if ("lost".equals(why)) {
        ObjectNode o = event("lost");
        o.put("token", h.token());
        String reason = h.lostReason().get();
        if (reason != null) {
          o.put("reason", reason);
        }
        emit(out, o);
        h.release().get();
        return CommandLine.ExitCode.SOFTWARE;
      }
      ObjectNode released = event("released");
      released.put("token", h.token());
      released.put("outcome", h.release().get().name());
      if (why != null) {
        released.put("signal", true);
      }
      emit(out, released);
      holding.set(false);
    }
    return 0;
  }

  private ObjectNode event(String name) {
    ObjectNode o = JSON.createObjectNode();
    o.put("format", Reports.FORMAT);
    o.put("event", name);
    o.put("key", key);
    o.put("ts", System.currentTimeMillis());
    o.put("ns", System.nanoTime());
    return o;
  }

  private static void emit(PrintWriter out, ObjectNode o) {
    out.println(o.toString());
    out.flush();
  }
}
