package io.ringwork.simulator;

import io.ringwork.rebalancer.Grant;
import io.ringwork.rebalancer.OwnershipListener;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who held which partition when, from the members' listener callbacks, and the check that no two
 * holds of one partition overlapped. A hold runs from {@code onAssigned} to {@code onRevoked},
 * {@code onSuspended} or {@code onLost}. A hold that ended with {@code onLost} may overlap its
 * successor only if the successor's token is higher: its session was already gone on the server,
 * and the fencing token is what stops its writes.
 */
final class HoldHistory {

  private record Hold(String member, int partition, long token, long start, long end, String why) {}

  private final Map<String, Long> resumedAt = new HashMap<>();

  private final List<Hold> closed = new ArrayList<>();
  private final Map<String, Map<Integer, long[]>> open = new HashMap<>();

  OwnershipListener listenerFor(String member) {
    return new OwnershipListener() {
      @Override
      public void onAssigned(List<Grant> grants) {
        long now = System.nanoTime();
        synchronized (HoldHistory.this) {
          Map<Integer, long[]> mine = open.computeIfAbsent(member, m -> new HashMap<>());
          for (Grant g : grants) {
            mine.put(g.partition(), new long[] {g.token(), now});
          }
        }
      }

      @Override
      public void onRevoked(Set<Integer> partitions) {
        end(member, partitions, "revoked");
      }

      @Override
      public void onSuspended() {
        end(member, null, "suspended");
      }

      @Override
      public void onResumed() {
        synchronized (HoldHistory.this) {
          resumedAt.put(member, System.nanoTime());
        }
      }

      @Override
      public void onLost(Set<Integer> partitions) {
        lost(member);
      }
    };
  }

  private synchronized void end(String member, Set<Integer> partitions, String why) {
    long now = System.nanoTime();
    Map<Integer, long[]> mine = open.getOrDefault(member, Map.of());
    for (Integer p : List.copyOf(mine.keySet())) {
      if (partitions == null || partitions.contains(p)) {
        long[] h = mine.remove(p);
        closed.add(new Hold(member, p, h[0], h[1], now, why));
      }
    }
  }

  /**
   * The member's session ended: its open holds end as lost, and so do those that a suspension ended
   * since it last resumed (it never got them back: its session was already gone).
   */
  private synchronized void lost(String member) {
    end(member, null, "lost");
    long since = resumedAt.getOrDefault(member, Long.MIN_VALUE);
    for (int i = 0; i < closed.size(); i++) {
      Hold h = closed.get(i);
      if (h.member().equals(member) && h.why().equals("suspended") && h.end() >= since) {
        closed.set(i, new Hold(h.member(), h.partition(), h.token(), h.start(), h.end(), "lost"));
      }
    }
  }

  /** Ends every open hold of a member (it was stopped), as lost. */
  synchronized void stopped(String member) {
    lost(member);
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
          break;
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
