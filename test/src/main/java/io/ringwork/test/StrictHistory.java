package io.ringwork.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

/**
 * A record of every hold that members of a group were given, per incarnation, and the check that no
 * two of them overlapped and that fencing tokens rose: the guarantee of one active owner per
 * partition and of no lock overlapping the owner's work, stated as an assertion a service can run
 * on its own tests.
 *
 * <h2>What is recorded</h2>
 *
 * Each hold belongs to an {@link Incarnation}, a member id together with the ZooKeeper session it
 * acted in, so that a member that rejoined after its session ended is checked against its own
 * earlier self. Times come from one monotonic clock ({@link System#nanoTime()} unless another is
 * injected; on Linux it is one clock for every process of a machine, so the holds of worker
 * processes compare when each records its own reading).
 *
 * <ul>
 *   <li>{@link #grantRead}: the library answered "you hold partition p with token t" (a {@code
 *       Rebalancer.grant} read). The reads of one incarnation, partition and token make one hold,
 *       from the first read to the last.
 *   <li>{@link #guardOpened} / {@link Hold#close}: a {@code KeyGuard}, on the owner's fast path (an
 *       EXCLUSIVE hold of the key and a claim on its partition) or through a lock.
 *   <li>{@link #lockAcquired} / {@link Hold#close}: a {@code LockHandle} from the member's lock
 *       service, in its mode.
 *   <li>{@link #withdrawn}: the library told the incarnation that everything it held is void (its
 *       session ended: {@code onLost}, or the local lease ran out). Open holds end there: from then
 *       on, only fencing stops the holder, and the {@link FencedStore} counts what it let through.
 *   <li>{@link #sessionEnded}: the incarnation's session ended on the server (its member node went,
 *       as a watcher saw it; {@link #watchSessions} records this), with the zxid when known.
 * </ul>
 *
 * <h2>What is checked</h2>
 *
 * For every resource (a partition; a key, where fast-path guards, lock guards and locks meet) and
 * every two holds of different incarnations whose modes conflict (only SHARED-style modes may
 * coexist, {@link Mode#compatibleWith}):
 *
 * <ol>
 *   <li>The one that started later has the higher token (grants among themselves on a partition). A
 *       later holder with a token at or below an earlier one's could not fence it off.
 *   <li>They do not overlap in time, with one excuse: the earlier hold's incarnation's session had
 *       ended on the server, the later hold was admitted after that end (it started after the
 *       observed end, or its token, a zxid, is above the end's zxid), and the earlier hold ended
 *       within {@code leaseBound} of that end.
 * </ol>
 *
 * <p>Why the excuse is safe, and why it is the only one: once the server has ended a session it may
 * admit a successor, and a holder that has not heard yet cannot be stopped by anything but fencing:
 * the successor's token is higher (checked for every pair), so a store that keeps the highest token
 * refuses the old holder's writes. That is what fencing is for, and it holds only for the window
 * the library promises: a member stops acting on a session no later than {@code leaseBound} after
 * the server ended it. A hold that outlives that bound, a hold whose session had not ended, and a
 * successor admitted while the earlier session still lived are each a failure, whatever the
 * callbacks said and however the tokens compare: the checker excuses nothing the library does not
 * promise. Holds of one incarnation are never compared with each other (a member's own threads
 * share its grants), but two incarnations of one member id are.
 *
 * <p>{@link #excusingOnlyForcedEnds} narrows the excuse further, to sessions a test closed from
 * outside ({@link #sessionClosed}): a member's session lease ends before the server can expire the
 * session, so after a real expiry not even a short overlap is excused. {@link #excused} lists what
 * the last check let through, and why.
 *
 * <p>Thread-safe. Holds are kept in memory for the life of the history.
 */
public final class StrictHistory {

  /**
   * One life of a member: its id and the ZooKeeper session it acted in.
   *
   * @param member the member id
   * @param session the session id (the member node's ephemeral owner)
   */
  public record Incarnation(String member, long session) {

    /**
     * Validates the fields.
     *
     * @throws NullPointerException if the member is null
     */
    public Incarnation {
      Objects.requireNonNull(member, "member");
    }

    @Override
    public String toString() {
      return member + "#" + Long.toHexString(session);
    }
  }

  /**
   * The mode a hold was taken in, as the lock service names it ({@code LockMode}'s constants, by
   * name: {@code Mode.valueOf(lockMode.name())}). Kept here rather than taken from the lock module
   * so that the history sits below every Ringwork module and each module's own tests can use it.
   */
  public enum Mode {
    /** Readers: compatible with SHARED and UPGRADABLE holds. */
    SHARED,
    /** A reader that may become a writer: compatible with SHARED holds only. */
    UPGRADABLE,
    /** A writer: compatible with nothing. */
    EXCLUSIVE;

    /** Returns whether two holds in these modes may coexist on one key. */
    public boolean compatibleWith(Mode other) {
      return this != EXCLUSIVE
          && other != EXCLUSIVE
          && !(this == UPGRADABLE && other == UPGRADABLE);
    }

    String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private enum Kind {
    GRANT("grant"),
    FAST_GUARD("fast guard"),
    LOCK_GUARD("lock guard"),
    LOCK("lock");

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  /** An open guard or lock: close it when the holder stops acting under it. */
  public final class Hold {
    private final Kind kind;
    private final Incarnation who;
    private final String key;
    private final int partition;
    private final Mode mode;
    private final long token;
    private final long start;
    private long end = Long.MAX_VALUE;

    private Hold(
        Kind kind, Incarnation who, String key, int partition, Mode mode, long token, long start) {
      this.kind = kind;
      this.who = who;
      this.key = key;
      this.partition = partition;
      this.mode = mode;
      this.token = token;
      this.start = start;
    }

    /** Ends the hold now; later calls change nothing. */
    public void close() {
      close(clock.getAsLong());
    }

    /**
     * Ends the hold at a reading of the history's clock; later calls change nothing.
     *
     * @throws IllegalArgumentException if {@code atNanos} is before the hold's start
     */
    public void close(long atNanos) {
      if (atNanos - start < 0) {
        throw new IllegalArgumentException(
            "a hold cannot end before it starts: start " + start + ", end " + atNanos);
      }
      synchronized (StrictHistory.this) {
        if (end == Long.MAX_VALUE) {
          end = atNanos;
        }
      }
    }
  }

  /**
   * A session's end on the server, as observed; {@code forced} when something other than the
   * server's expiry ended it (another handle closed it), which no lease can foresee.
   */
  private record SessionEnd(long at, long zxid, boolean forced) {}

  /** One grant hold in progress: an incarnation's reads of one partition with one token. */
  private record GrantKey(Incarnation who, int partition, long token) {}

  private final LongSupplier clock;
  private final List<Hold> holds = new ArrayList<>();
  private final Map<GrantKey, long[]> grants = new HashMap<>();
  private final Map<Incarnation, List<Long>> withdrawals = new HashMap<>();
  private final Map<Incarnation, SessionEnd> ends = new HashMap<>();
  private Long origin;
  private boolean onlyForcedEndsExcuse;
  private List<String> lastExcused = List.of();

  private StrictHistory(LongSupplier clock) {
    this.clock = clock;
  }

  /** Returns an empty history on {@link System#nanoTime()}. */
  public static StrictHistory create() {
    return new StrictHistory(System::nanoTime);
  }

  /**
   * Returns an empty history on a nanosecond clock (a test's fake clock, for instance).
   *
   * @throws NullPointerException if the clock is null
   */
  public static StrictHistory withClock(LongSupplier nanoClock) {
    return new StrictHistory(Objects.requireNonNull(nanoClock, "nanoClock"));
  }

  /** Records, now, that the library said {@code who} holds {@code partition} with a token. */
  public void grantRead(Incarnation who, int partition, long token) {
    grantRead(who, partition, token, clock.getAsLong());
  }

  /**
   * Records that the library said, at {@code atNanos}, that {@code who} holds {@code partition}
   * with a token.
   *
   * @throws NullPointerException if {@code who} is null
   */
  public synchronized void grantRead(Incarnation who, int partition, long token, long atNanos) {
    Objects.requireNonNull(who, "who");
    seen(atNanos);
    long[] span =
        grants.computeIfAbsent(
            new GrantKey(who, partition, token), k -> new long[] {atNanos, atNanos});
    if (atNanos - span[0] < 0) {
      span[0] = atNanos;
    }
    if (atNanos - span[1] > 0) {
      span[1] = atNanos;
    }
  }

  /** Records a guard opened now; close the returned hold when the guard closes. */
  public Hold guardOpened(
      Incarnation who, String key, int partition, Mode mode, long token, boolean fastPath) {
    return guardOpened(who, key, partition, mode, token, fastPath, clock.getAsLong());
  }

  /**
   * Records a guard opened at {@code atNanos}: on the fast path it holds the key EXCLUSIVE whatever
   * {@code mode} was asked and claims the partition; otherwise it is a lock in {@code mode}.
   *
   * @throws NullPointerException if {@code who}, {@code key} or {@code mode} is null
   */
  public synchronized Hold guardOpened(
      Incarnation who,
      String key,
      int partition,
      Mode mode,
      long token,
      boolean fastPath,
      long atNanos) {
    Objects.requireNonNull(who, "who");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(mode, "mode");
    seen(atNanos);
    Hold h =
        fastPath
            ? new Hold(Kind.FAST_GUARD, who, key, partition, Mode.EXCLUSIVE, token, atNanos)
            : new Hold(Kind.LOCK_GUARD, who, key, partition, mode, token, atNanos);
    holds.add(h);
    return h;
  }

  /** Records a lock acquired now; close the returned hold when the lock is released. */
  public Hold lockAcquired(Incarnation who, String key, Mode mode, long token) {
    return lockAcquired(who, key, mode, token, clock.getAsLong());
  }

  /**
   * Records a lock acquired at {@code atNanos}.
   *
   * @throws NullPointerException if {@code who}, {@code key} or {@code mode} is null
   */
  public synchronized Hold lockAcquired(
      Incarnation who, String key, Mode mode, long token, long atNanos) {
    Objects.requireNonNull(who, "who");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(mode, "mode");
    seen(atNanos);
    Hold h = new Hold(Kind.LOCK, who, key, -1, mode, token, atNanos);
    holds.add(h);
    return h;
  }

  /** Records that the library voided everything {@code who} held, now. */
  public void withdrawn(Incarnation who) {
    withdrawn(who, clock.getAsLong());
  }

  /**
   * Records that the library told {@code who}, at {@code atNanos}, that everything it held is void
   * (its session ended, or its lease ran out): its guards and locks open then end there. Grants end
   * with their last read anyway.
   *
   * @throws NullPointerException if {@code who} is null
   */
  public synchronized void withdrawn(Incarnation who, long atNanos) {
    Objects.requireNonNull(who, "who");
    seen(atNanos);
    withdrawals.computeIfAbsent(who, w -> new ArrayList<>()).add(atNanos);
  }

  /** Records that the server ended {@code who}'s session, observed now; zxid 0 if unknown. */
  public void sessionEnded(Incarnation who, long zxid) {
    sessionEnded(who, zxid, clock.getAsLong());
  }

  /**
   * Records that the server ended {@code who}'s session, observed at {@code atNanos} (the time a
   * watcher saw its member node go), with the zxid of that change, or 0 if unknown. The first
   * observation counts.
   *
   * @throws NullPointerException if {@code who} is null
   */
  public synchronized void sessionEnded(Incarnation who, long zxid, long atNanos) {
    Objects.requireNonNull(who, "who");
    seen(atNanos);
    ends.merge(who, new SessionEnd(atNanos, zxid, false), StrictHistory::earlier);
  }

  /** Records that {@code who}'s session was closed on the server by another handle, now. */
  public void sessionClosed(Incarnation who, long zxid) {
    sessionClosed(who, zxid, clock.getAsLong());
  }

  /**
   * Records that {@code who}'s session was ended on the server by something other than its expiry,
   * no earlier than {@code atNanos}: another handle on the same session closed it (a test's instant
   * expiry), or an operator did. The member cannot foresee such an end, so its lease cannot stop it
   * first; it stops when it hears (one round trip later). Combine with {@link
   * #excusingOnlyForcedEnds} to excuse overlaps after such ends only. A watcher's later observation
   * of the same end ({@link #sessionEnded}) keeps it marked forced.
   *
   * @throws NullPointerException if {@code who} is null
   */
  public synchronized void sessionClosed(Incarnation who, long zxid, long atNanos) {
    Objects.requireNonNull(who, "who");
    seen(atNanos);
    ends.merge(who, new SessionEnd(atNanos, zxid, true), StrictHistory::earlier);
  }

  /**
   * Narrows the one excuse to sessions recorded with {@link #sessionClosed}: an overlap after a
   * session the server <em>expired</em> is then a violation however short. That is the guarantee of
   * Ringwork's session lease: a member stops acting before the server can expire it, so only an end
   * the member could not foresee leaves a window that fencing must cover. Use it when the test
   * knows every forced close it makes; the default excuses any observed end within the bound.
   *
   * @return this history
   */
  public synchronized StrictHistory excusingOnlyForcedEnds() {
    onlyForcedEndsExcuse = true;
    return this;
  }

  /** Two observations of one end: the earlier time, a known zxid, forced if either says so. */
  private static SessionEnd earlier(SessionEnd a, SessionEnd b) {
    return new SessionEnd(
        b.at() - a.at() < 0 ? b.at() : a.at(),
        a.zxid() != 0 ? a.zxid() : b.zxid(),
        a.forced() || b.forced());
  }

  /**
   * Watches a group's member nodes and records the end of each member's session when its node goes,
   * with the zxid of the deletion. Member nodes are the children of {@code membersPath} named by
   * member id (Ringwork's {@code <namespace>/<group>/members}); the session is the node's ephemeral
   * owner, read when the node appears. The group need not exist yet. The watch lasts until the
   * returned handle is closed or the client's own session ends; a node created and deleted before
   * it is read is missed, which only makes the check stricter. Closing the handle removes every
   * watch {@code client} holds on {@code membersPath} (removing the one watcher alone left the
   * server's watch in place, with Curator 5 and ZooKeeper 3.9: {@code WatchSessionsLeakTest}), so
   * give it a client that watches nothing else there, such as a test's observer.
   *
   * @throws NullPointerException if an argument is null
   * @throws IllegalStateException if the watch cannot be set
   */
  public AutoCloseable watchSessions(CuratorFramework client, String membersPath) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(membersPath, "membersPath");
    Map<String, Long> owners = new ConcurrentHashMap<>();
    Watcher watcher =
        event -> {
          String path = event.getPath();
          if (path == null || !path.startsWith(membersPath + "/")) {
            return;
          }
          String id = path.substring(membersPath.length() + 1);
          if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
            Long owner = owners.remove(id);
            if (owner != null && owner != 0) {
              sessionEnded(new Incarnation(id, owner), zxid(event));
            }
          } else if (event.getType() == Watcher.Event.EventType.NodeCreated) {
            try {
              readOwner(client, path, id, owners);
            } catch (Exception e) {
              // the client is closing: nothing more to record
            }
          }
        };
    try {
      client
          .watchers()
          .add()
          .withMode(AddWatchMode.PERSISTENT_RECURSIVE)
          .usingWatcher(watcher)
          .forPath(membersPath);
      if (client.checkExists().forPath(membersPath) != null) {
        for (String id : client.getChildren().forPath(membersPath)) {
          readOwner(client, membersPath + "/" + id, id, owners);
        }
      } // else: the group does not exist yet; the recursive watch sees its members appear
    } catch (Exception e) {
      throw new IllegalStateException("cannot watch " + membersPath + ": " + e, e);
    }
    return () ->
        client
            .watchers()
            .removeAll()
            .ofType(Watcher.WatcherType.Any)
            .quietly()
            .forPath(membersPath);
  }

  private static long zxid(WatchedEvent event) {
    long zxid = event.getZxid();
    return zxid == WatchedEvent.NO_ZXID ? 0 : zxid;
  }

  private static void readOwner(
      CuratorFramework client, String path, String id, Map<String, Long> owners) throws Exception {
    client
        .checkExists()
        .inBackground(
            (c, e) -> {
              Stat stat = e.getStat();
              if (stat != null && stat.getEphemeralOwner() != 0) {
                owners.put(id, stat.getEphemeralOwner());
              }
            })
        .forPath(path);
  }

  private void seen(long atNanos) {
    if (origin == null || atNanos - origin < 0) {
      origin = atNanos;
    }
  }

  /** Returns how many holds were recorded (a grant's reads of one token count once). */
  public synchronized int size() {
    return holds.size() + grants.size();
  }

  /**
   * Returns every violation, each a readable sentence naming the resource, both holds (incarnation,
   * kind, token, times) and what was wrong; empty when the history is clean. Open holds last until
   * now.
   *
   * @throws IllegalArgumentException if {@code leaseBound} is negative
   */
  public List<String> violations(Duration leaseBound) {
    if (leaseBound.isNegative()) {
      throw new IllegalArgumentException("leaseBound must not be negative, got " + leaseBound);
    }
    long bound = leaseBound.toNanos();
    Map<String, List<Span>> byResource = new TreeMap<>();
    long now = clock.getAsLong();
    synchronized (this) {
      for (Hold h : holds) {
        long closed = h.end == Long.MAX_VALUE ? now : h.end;
        long end = effectiveEnd(h.who, h.start, closed);
        boolean open = h.end == Long.MAX_VALUE && end == closed;
        Span s = new Span(h.kind, h.who, h.mode, h.token, h.start, end, open);
        String key = "key '" + h.key + "'";
        byResource.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
        if (h.kind == Kind.FAST_GUARD) {
          byResource.computeIfAbsent(partition(h.partition), k -> new ArrayList<>()).add(s);
        }
      }
      grants.forEach(
          (k, span) ->
              byResource
                  .computeIfAbsent(partition(k.partition()), r -> new ArrayList<>())
                  .add(
                      new Span(
                          Kind.GRANT,
                          k.who(),
                          Mode.EXCLUSIVE,
                          k.token(),
                          span[0],
                          span[1],
                          false)));
    }
    List<String> out = new ArrayList<>();
    List<String> excused = new ArrayList<>();
    byResource.forEach((resource, spans) -> check(resource, spans, bound, out, excused));
    synchronized (this) {
      lastExcused = List.copyOf(excused);
    }
    return out;
  }

  /**
   * Returns the overlaps the last {@link #violations} (or {@link #assertStrict}) call excused, each
   * a sentence naming both holds and the session end that excused it: a report should show what a
   * check let through, not only that it passed.
   */
  public synchronized List<String> excused() {
    return lastExcused;
  }

  /**
   * Throws when {@link #violations} finds any, with all of them in the message (the first 20).
   *
   * @throws AssertionError listing the violations
   * @throws IllegalArgumentException if {@code leaseBound} is negative
   */
  public void assertStrict(Duration leaseBound) {
    List<String> found = violations(leaseBound);
    if (!found.isEmpty()) {
      throw new AssertionError(
          found.size()
              + " violation(s) of exclusive, fenced holds (lease bound "
              + leaseBound.toMillis()
              + " ms):\n  "
              + String.join("\n  ", found.subList(0, Math.min(20, found.size()))));
    }
  }

  private static String partition(int p) {
    return "partition " + p;
  }

  /** One hold as the check sees it: its end is the earlier of its close and a withdrawal. */
  private record Span(
      Kind kind, Incarnation who, Mode mode, long token, long start, long end, boolean open) {}

  private long effectiveEnd(Incarnation who, long start, long end) {
    long out = end;
    for (long w : withdrawals.getOrDefault(who, List.of())) {
      if (w - start >= 0 && w - out < 0) {
        out = w;
      }
    }
    return out;
  }

  /**
   * Checks one resource's holds, sorted by start: each against the holds that start before it ends
   * (overlaps), and each against the highest token of the earlier conflicting holds of other
   * incarnations (tokens), so that a long history costs n log n and not n squared.
   */
  private void check(
      String resource, List<Span> spans, long bound, List<String> out, List<String> excused) {
    spans.sort(Comparator.comparingLong(Span::start).thenComparingLong(Span::token));
    boolean partition = resource.startsWith("partition");
    Map<Mode, Span[]> highest = new EnumMap<>(Mode.class);
    for (int i = 0; i < spans.size(); i++) {
      Span b = spans.get(i);
      if (!partition || b.kind() == Kind.GRANT) {
        Span a = highestConflicting(highest, b);
        if (a != null && b.token() <= a.token()) {
          out.add(
              String.format(
                  Locale.ROOT,
                  "%s: token did not rise: %s, then %s",
                  resource,
                  describe(a),
                  describe(b)));
        }
        remember(highest.computeIfAbsent(b.mode(), m -> new Span[2]), b);
      }
    }
    for (int i = 0; i < spans.size(); i++) {
      Span a = spans.get(i);
      for (int j = i + 1; j < spans.size() && spans.get(j).start() - a.end() < 0; j++) {
        Span b = spans.get(j);
        if (a.who().equals(b.who()) || a.mode().compatibleWith(b.mode())) {
          continue;
        }
        String why = unexcused(a, b, bound);
        if (why == null) {
          excused.add(
              String.format(
                  Locale.ROOT,
                  "%s: %s and %s overlapped from %s to %s, after %s's session ended on the server"
                      + " (the successor's token is higher: fencing covers it)",
                  resource,
                  describe(a),
                  describe(b),
                  at(b.start()),
                  at(Math.min(a.end(), b.end())),
                  a.who()));
        } else {
          out.add(
              String.format(
                  Locale.ROOT,
                  "%s: %s and %s overlapped from %s to %s; %s",
                  resource,
                  describe(a),
                  describe(b),
                  at(b.start()),
                  at(Math.min(a.end(), b.end())),
                  why));
        }
      }
    }
  }

  /** The earlier hold with the highest token, of another incarnation, in a conflicting mode. */
  private static Span highestConflicting(Map<Mode, Span[]> highest, Span b) {
    Span best = null;
    for (Map.Entry<Mode, Span[]> e : highest.entrySet()) {
      if (e.getKey().compatibleWith(b.mode())) {
        continue;
      }
      for (Span s : e.getValue()) {
        if (s != null && !s.who().equals(b.who())) {
          if (best == null || s.token() > best.token()) {
            best = s;
          }
          break; // [0] is the highest; [1] the highest of another incarnation than [0]'s
        }
      }
    }
    return best;
  }

  /** Keeps, per mode, the hold with the highest token and the highest of another incarnation. */
  private static void remember(Span[] top, Span x) {
    if (top[0] == null || x.who().equals(top[0].who())) {
      if (top[0] == null || x.token() > top[0].token()) {
        top[0] = x;
      }
    } else if (x.token() > top[0].token()) {
      top[1] = top[0];
      top[0] = x;
    } else if (top[1] == null || x.token() > top[1].token()) {
      top[1] = x;
    }
  }

  /** Returns why an overlap is not excused, or null when it is (see the class comment). */
  private String unexcused(Span earlier, Span later, long bound) {
    SessionEnd end;
    boolean onlyForcedEndsExcuse;
    synchronized (this) {
      end = ends.get(earlier.who());
      onlyForcedEndsExcuse = this.onlyForcedEndsExcuse;
    }
    if (end == null) {
      return earlier.who() + "'s session had not ended on the server";
    }
    if (onlyForcedEndsExcuse && !end.forced()) {
      return earlier.who()
          + "'s session expired on the server, which its lease must foresee: it had to stop"
          + " before the expiry";
    }
    boolean admittedAfter =
        later.start() - end.at() >= 0 || (end.zxid() != 0 && later.token() > end.zxid());
    if (!admittedAfter) {
      return String.format(
          Locale.ROOT,
          "%s was admitted %s before %s's session ended on the server (at %s%s)",
          later.who(),
          millis(end.at() - later.start()),
          earlier.who(),
          at(end.at()),
          end.zxid() == 0 ? "" : ", zxid 0x" + Long.toHexString(end.zxid()));
    }
    if (earlier.end() - end.at() > bound) {
      return String.format(
          Locale.ROOT,
          "%s's session ended on the server at %s%s, and its hold ended %s later, past the lease"
              + " bound of %s",
          earlier.who(),
          at(end.at()),
          end.zxid() == 0 ? "" : " (zxid 0x" + Long.toHexString(end.zxid()) + ")",
          millis(earlier.end() - end.at()),
          millis(bound));
    }
    return null;
  }

  private String describe(Span s) {
    return String.format(
        Locale.ROOT,
        "%s (%s%s, token %d, %s to %s)",
        s.who(),
        s.kind().label,
        s.kind() == Kind.GRANT || s.kind() == Kind.FAST_GUARD ? "" : " " + s.mode().wireName(),
        s.token(),
        at(s.start()),
        s.open() ? "open" : at(s.end()));
  }

  private String at(long nanos) {
    long base;
    synchronized (this) {
      base = origin == null ? nanos : origin;
    }
    return String.format(Locale.ROOT, "%.3f s", (nanos - base) / 1e9);
  }

  private static String millis(long nanos) {
    return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
  }
}
