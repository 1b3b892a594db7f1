package io.ringwork.simulator;

import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who held which partition when, from the members' listener callbacks (in-process workers) or from
 * the events worker processes print, and the check that no two holds of one partition overlapped.
 * Times are {@link System#nanoTime()}, which on Linux is one monotonic clock for every process of
 * the machine, so the holds of worker processes compare.
 *
 * <p>A hold runs from {@code assigned} to {@code revoked}, {@code suspended} or {@code lost};
 * {@code resumed} reopens what a suspension paused, with the same token. A hold that ended with
 * {@code lost} may overlap its successor only if the successor's token is higher: its session was
 * already gone on the server, and the fencing token is what stops its writes. A suspension that
 * ends in {@code lost} counts as lost, and so does a revocation that a frozen member (see {@link
 * #froze}) follows with {@code lost} before anything else: a frozen process (SIGSTOP) works through
 * events queued before it froze once it runs again, then learns that its session had ended, which
 * is what let the successor in. A protocol bug (a successor active while the old owner's session
 * lives) shows no {@code lost}.
 */
final class HoldHistory {

  private record Hold(String member, int partition, long token, long start, long end, String why) {}

  private final List<Hold> closed = new ArrayList<>();
  private final Map<String, Map<Integer, long[]>> open = new HashMap<>();
  private final Map<String, Map<Integer, Long>> paused = new HashMap<>();

  /** Per member, the index in {@link #closed} from which its holds may still turn into "lost". */
  private final Map<String, Integer> mayBecomeLost = new HashMap<>();

  /** Members frozen (SIGSTOP) and not heard from since: their revocations may become "lost". */
  private final Set<String> frozen = new HashSet<>();

  OwnershipListener listenerFor(String member) {
    return new OwnershipListener() {
      @Override
      public void onAssigned(List<Grant> grants) {
        Map<Integer, Long> tokens = new HashMap<>();
        for (Grant g : grants) {
          tokens.put(g.partition(), g.token());
        }
        assigned(member, tokens, System.nanoTime());
      }

      @Override
      public void onRevoked(Set<Integer> partitions) {
        revoked(member, partitions, System.nanoTime());
      }

      @Override
      public void onSuspended() {
        suspended(member, System.nanoTime());
      }

      @Override
      public void onResumed() {
        resumed(member, System.nanoTime());
      }

      @Override
      public void onLost(Set<Integer> partitions) {
        lost(member, System.nanoTime());
      }
    };
  }

  synchronized void assigned(String member, Map<Integer, Long> tokens, long at) {
    settle(member);
    Map<Integer, long[]> mine = open.computeIfAbsent(member, m -> new HashMap<>());
    tokens.forEach((p, t) -> mine.put(p, new long[] {t, at}));
  }

  synchronized void revoked(String member, Set<Integer> partitions, long at) {
    mayBecomeLost.putIfAbsent(member, closed.size());
    Map<Integer, long[]> mine = open.getOrDefault(member, Map.of());
    for (Integer p : partitions) {
      long[] h = mine.remove(p);
      if (h != null) {
        closed.add(new Hold(member, p, h[0], h[1], at, "revoked"));
      }
      paused.getOrDefault(member, new HashMap<>()).remove(p); // revoked while suspended
    }
  }

  synchronized void suspended(String member, long at) {
    mayBecomeLost.putIfAbsent(member, closed.size());
    Map<Integer, long[]> mine = open.getOrDefault(member, new HashMap<>());
    Map<Integer, Long> held = paused.computeIfAbsent(member, m -> new HashMap<>());
    mine.forEach(
        (p, h) -> {
          closed.add(new Hold(member, p, h[0], h[1], at, "suspended"));
          held.put(p, h[0]);
        });
    mine.clear();
  }

  synchronized void resumed(String member, long at) {
    settle(member);
    Map<Integer, long[]> mine = open.computeIfAbsent(member, m -> new HashMap<>());
    paused.getOrDefault(member, new HashMap<>()).forEach((p, t) -> mine.put(p, new long[] {t, at}));
    paused.remove(member);
  }

  /**
   * The member's session ended: its open holds end as lost, and so do those that a suspension or a
   * revocation ended since it last was assigned or resumed (see the class comment).
   */
  synchronized void lost(String member, long at) {
    int from = mayBecomeLost.getOrDefault(member, closed.size());
    for (int i = from; i < closed.size(); i++) {
      Hold h = closed.get(i);
      boolean queued = h.why().equals("suspended") || frozen.contains(member);
      if (h.member().equals(member) && !h.why().equals("lost") && queued) {
        long end = h.why().equals("suspended") ? at : h.end();
        closed.set(i, new Hold(h.member(), h.partition(), h.token(), h.start(), end, "lost"));
      }
    }
    mayBecomeLost.remove(member);
    frozen.remove(member);
    Map<Integer, long[]> mine = open.getOrDefault(member, Map.of());
    mine.forEach((p, h) -> closed.add(new Hold(member, p, h[0], h[1], at, "lost")));
    mine.clear();
    paused.remove(member);
  }

  /** What the member did since a suspension or revocation stands: they no longer become lost. */
  private void settle(String member) {
    if (!frozen.contains(member)) {
      mayBecomeLost.remove(member);
    }
  }

  /**
   * The member's process was frozen (SIGSTOP) past its session: until it reports {@code lost}, what
   * it reports are events queued before the freeze (see the class comment).
   */
  synchronized void froze(String member) {
    frozen.add(member);
    mayBecomeLost.putIfAbsent(member, closed.size());
  }

  /**
   * Ends every open hold of a member that was stopped (killed, or its session expired) at a time.
   */
  synchronized void stopped(String member, long at) {
    lost(member, at);
  }

  /** Ends every open hold of a member that was stopped now. */
  void stopped(String member) {
    stopped(member, System.nanoTime());
  }

  private final List<String> samples = new ArrayList<>();

  /** Returns up to five overlapping pairs, described, from the last {@link #overlaps()}. */
  synchronized List<String> samples() {
    return List.copyOf(samples);
  }

  /** Returns how many pairs of holds of one partition overlapped (0 is the guarantee). */
  synchronized int overlaps() {
    samples.clear();
    List<Hold> all = new ArrayList<>(closed);
    long now = System.nanoTime();
    open.forEach(
        (m, holds) -> holds.forEach((p, h) -> all.add(new Hold(m, p, h[0], h[1], now, "open"))));
    all.sort(Comparator.comparingInt(Hold::partition).thenComparingLong(Hold::start));
    int bad = 0;
    for (int i = 0; i < all.size(); i++) {
      Hold a = all.get(i);
      for (int j = i + 1; j < all.size() && all.get(j).partition() == a.partition(); j++) {
        Hold b = all.get(j);
        if (b.start() >= a.end()) {
          break; // sorted by start: no later hold of this partition starts before a ends
        }
        boolean fencedLoss = a.why().equals("lost") && b.token() > a.token();
        if (!a.member().equals(b.member()) && !fencedLoss) {
          bad++;
          if (samples.size() < 5) {
            samples.add(
                String.format(
                    "partition %d: %s (token %d, ended %s) and %s (token %d) overlapped %d ms",
                    a.partition(),
                    a.member(),
                    a.token(),
                    a.why(),
                    b.member(),
                    b.token(),
                    (Math.min(a.end(), b.end()) - b.start()) / 1_000_000));
          }
        }
      }
    }
    return bad;
  }
}
