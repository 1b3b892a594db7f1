package io.ringwork.lock;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The grant rules of one lock queue, computed from a listing of its children: a pure function, so
 * every member that lists the same children reaches the same verdict.
 *
 * <h2>Rules</h2>
 *
 * <p>Requests are ordered by sequence (ZooKeeper's lock recipe, generalised to modes and subtrees
 * as in its "Shared Locks" recipe). A request is granted when no earlier node overlaps it (same
 * key, or a subtree covering it) in an incompatible mode: FIFO, so a queued EXCLUSIVE request keeps
 * later SHARED ones out and writers never starve.
 *
 * <p>An upgrade node of request {@code b} stands, for everyone else, at {@code b}'s place in the
 * queue, as EXCLUSIVE: every later overlapping request waits for it, whenever it was created (the
 * fix of CURATOR-621 for downgrades, applied to upgrades). The upgrade itself is granted when no
 * node other than {@code b} overlaps it, except later requests that could not be granted without
 * it, and requests created after the upgrade node (it blocks them from their creation); those stay
 * blocked by it, so they need not be waited for, and the upgrade cannot deadlock with them. Earlier
 * overlapping requests are always waited for: they are compatible with {@code b} and do not see the
 * upgrade. A request whose upgrade is granted and the upgrade node are deleted together (one {@code
 * multi}), so an upgrade never outlives its base.
 *
 * <p>Modes are read from names; a request lowered by a downgrade has its real mode in its data,
 * supplied as an override. A name's mode is never weaker than the real one, so a verdict from names
 * alone can only wait longer, never grant wrongly; the rules that could grant wrongly on a stale
 * mode (the upgrade's) are given the real modes.
 */
final class LockQueue {

  private static final Comparator<LockNode> BY_SEQ = Comparator.comparingLong(LockNode::seq);

  private final List<LockNode> requests = new ArrayList<>();
  private final Map<String, LockNode> byRequest = new HashMap<>();
  private final List<LockNode> upgrades = new ArrayList<>();
  private final Set<String> yielded = new HashSet<>();
  private final List<LockNode> yields = new ArrayList<>();

  private LockQueue() {}

  /** Parses a listing; names that are not lock nodes are ignored. */
  static LockQueue of(Collection<String> children) {
    LockQueue q = new LockQueue();
    for (String child : children) {
      LockNode n = LockNode.parse(child);
      if (n == null) {
        continue;
      }
      switch (n.kind()) {
        case REQUEST -> {
          q.requests.add(n);
          q.byRequest.put(n.request(), n);
        }
        case UPGRADE -> q.upgrades.add(n);
        case YIELD -> {
          q.yielded.add(n.base());
          q.yields.add(n);
        }
      }
    }
    q.requests.sort(BY_SEQ);
    q.upgrades.sort(BY_SEQ);
    return q;
  }

  List<LockNode> requests() {
    return requests;
  }

  List<LockNode> upgrades() {
    return upgrades;
  }

  List<LockNode> yields() {
    return yields;
  }

  LockNode request(String id) {
    return byRequest.get(id);
  }

  LockNode byName(String name) {
    for (LockNode n : requests) {
      if (n.name().equals(name)) {
        return n;
      }
    }
    for (LockNode n : upgrades) {
      if (n.name().equals(name)) {
        return n;
      }
    }
    return null;
  }

  /** Returns whether some owner has yielded the key to this request. */
  boolean yielded(String request) {
    return yielded.contains(request);
  }

  /** Returns the base request of an upgrade, or null when it is gone. */
  LockNode baseOf(LockNode upgrade) {
    return byRequest.get(upgrade.base());
  }

  /** Returns the real mode of a request given downgrades read so far. */
  static LockMode mode(LockNode n, Map<String, LockMode> overrides) {
    if (n.kind() == LockNode.Kind.UPGRADE) {
      return LockMode.EXCLUSIVE;
    }
    LockMode m = overrides.get(n.name());
    return m == null ? n.mode() : m;
  }

  /**
   * Returns the nearest earlier node that keeps a request from being granted, or null when it is
   * granted.
   *
   * @param ignoreUpgradesOf a request id whose upgrade is left out, or null
   */
  LockNode blocker(LockNode request, Map<String, LockMode> overrides, String ignoreUpgradesOf) {
    return blocker(request, overrides, ignoreUpgradesOf, Long.MAX_VALUE);
  }

  /**
   * The blocker of a request as it could have been when the request was decided: upgrade nodes
   * created after the request ({@code seq > request.seq()}) are left out, because the request may
   * have been granted before they existed, and an upgrade node never takes a grant back. A request
   * with no such blocker may hold; one with a blocker that is still there has waited all along
   * (that blocker existed when it was created, and modes only get weaker, by downgrades).
   */
  LockNode blockerWhenDecided(
      LockNode request, Map<String, LockMode> overrides, String ignoreUpgradesOf) {
    return blocker(request, overrides, ignoreUpgradesOf, request.seq());
  }

  private LockNode blocker(
      LockNode request,
      Map<String, LockMode> overrides,
      String ignoreUpgradesOf,
      long upgradesUpTo) {
    LockMode mine = mode(request, overrides);
    LockNode nearest = null;
    long nearestPos = Long.MIN_VALUE;
    for (LockNode m : requests) {
      if (m.seq() >= request.seq()) {
        break;
      }
      if (LockKeys.overlap(m.key(), m.subtree(), request.key(), request.subtree())
          && !mode(m, overrides).compatibleWith(mine)) {
        nearest = m;
        nearestPos = 2 * m.seq();
      }
    }
    for (LockNode u : upgrades) {
      LockNode base = baseOf(u);
      if (base == null
          || base == request
          || base.request().equals(ignoreUpgradesOf)
          || base.seq() >= request.seq()
          || u.seq() > upgradesUpTo) {
        continue;
      }
      if (LockKeys.overlap(base.key(), base.subtree(), request.key(), request.subtree())
          && 2 * base.seq() + 1 > nearestPos) {
        nearest = u;
        nearestPos = 2 * base.seq() + 1;
      }
    }
    return nearest;
  }

  /** Returns whether a request is granted. */
  boolean granted(LockNode request, Map<String, LockMode> overrides) {
    return blocker(request, overrides, null) == null;
  }

  /**
   * Returns a node that keeps the upgrade of {@code base} from being granted, preferring one that
   * holds, or null when the upgrade is granted.
   */
  LockNode upgradeBlocker(LockNode base, Map<String, LockMode> overrides) {
    // Requests after the upgrade node were blocked by it from their creation: never holders.
    long upgradeSeq = Long.MAX_VALUE;
    for (LockNode u : upgrades) {
      if (u.base().equals(base.request())) {
        upgradeSeq = Math.min(upgradeSeq, u.seq());
      }
    }
    LockNode queued = null;
    for (LockNode m : requests) {
      if (m == base || !LockKeys.overlap(m.key(), m.subtree(), base.key(), base.subtree())) {
        continue;
      }
      if (m.seq() < base.seq()) {
        if (granted(m, overrides)) {
          return m;
        }
        queued = queued == null ? m : queued;
      } else if (m.seq() < upgradeSeq && blockerWhenDecided(m, overrides, base.request()) == null) {
        // It may have been granted before this upgrade and before any other holder's upgrade
        // node that blocks it now: wait for it to go. (Asking whether it would be granted now
        // counted such later upgrade nodes, and let two upgrades past a shared holder of a
        // subtree above both keys.)
        return m;
      }
    }
    if (queued != null) {
      return queued;
    }
    for (LockNode u : upgrades) {
      LockNode other = baseOf(u);
      if (other != null
          && other != base
          && LockKeys.overlap(other.key(), other.subtree(), base.key(), base.subtree())) {
        return u; // another holder's upgrade attempt; it fails fast or waits for us
      }
    }
    return null;
  }

  /**
   * Returns whether a request is a holder for inspection: granted, or granted before an upgrade.
   */
  boolean holds(LockNode request, Map<String, LockMode> overrides) {
    // Granted now, or granted before the upgrade nodes created after it (see blockerWhenDecided).
    // A request created just before an upgrade node and listed just after it is shown as a holder
    // while it waits: inspection errs towards showing a holder, never hides one.
    return blockerWhenDecided(request, overrides, null) == null;
  }

  /** Returns whether an upgrade node is granted. */
  boolean upgradeGranted(LockNode upgrade, Map<String, LockMode> overrides) {
    LockNode base = baseOf(upgrade);
    return base != null && upgradeBlocker(base, overrides) == null;
  }
}
