package io.ringwork.membership;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The member nodes of one group as this process has parsed them, kept in view order.
 *
 * <p>A change of one node costs one parse, a binary search and an array shift: the members are kept
 * sorted by id as they change, and the leader is taken from the few nodes that claim it. The table
 * used to be walked whole on every change (a pass over every member, then a comparison with the
 * last view), which made a member's work per change O(N) and a group's start O(N²) per member; in
 * the scale harness at N = 1,000 that walk was a quarter of all CPU samples.
 *
 * <p>Confined to the membership's event thread; {@link #members()} is copied by the view.
 */
final class MemberTable {

  private static final Logger log = LoggerFactory.getLogger(Membership.class);

  /** A member node as parsed, kept until its data changes; {@code info} is null if corrupt. */
  private record Parsed(long mzxid, MemberInfo info, boolean leader) {}

  private final Map<String, Parsed> byId = new HashMap<>();
  // The members whose node parsed, sorted by id: what the view shows.
  private final ArrayList<MemberInfo> members = new ArrayList<>();
  // The members whose node claims the leadership, with the node's mzxid.
  private final Map<String, Long> leaderClaims = new HashMap<>(4);
  // Corrupt nodes already logged, as path@mzxid, so that each is logged once.
  private final Set<String> reportedCorrupt = new HashSet<>();
  private boolean membersChanged;

  /**
   * Takes in one node as it is now, or its deletion.
   *
   * @param child the node, or null if it is gone
   * @return whether what a view shows (the members or the leader claims) may have changed
   */
  boolean apply(String id, ChildData child) {
    if (child == null) {
      Parsed old = byId.remove(id);
      if (old == null) {
        return false;
      }
      leaderClaims.remove(id);
      if (old.info() != null) {
        removeMember(id);
      }
      return true;
    }
    long mzxid = child.getStat() == null ? 0 : child.getStat().getMzxid();
    Parsed old = byId.get(id);
    if (old != null && old.mzxid() == mzxid) {
      return false;
    }
    Parsed now = parse(id, child, mzxid);
    byId.put(id, now);
    if (now.info() != null && now.leader()) {
      leaderClaims.put(id, mzxid);
    } else {
      leaderClaims.remove(id);
    }
    MemberInfo before = old == null ? null : old.info();
    if (!Objects.equals(before, now.info())) {
      if (before != null) {
        removeMember(id);
      }
      if (now.info() != null) {
        addMember(now.info());
      }
    }
    return !Objects.equals(before, now.info())
        || (old != null && old.leader() != now.leader())
        || now.leader();
  }

  /**
   * Takes in a whole listing of the nodes, after which every node not in it is gone.
   *
   * @param nodes the member nodes by id
   * @return whether what a view shows may have changed
   */
  boolean reload(Map<String, ChildData> nodes) {
    boolean changed = false;
    for (Map.Entry<String, ChildData> e : nodes.entrySet()) {
      changed |= apply(e.getKey(), e.getValue());
    }
    for (String id : new HashSet<>(byId.keySet())) {
      if (!nodes.containsKey(id)) {
        changed |= apply(id, null);
      }
    }
    return changed;
  }

  /** Returns whether the member list changed since the last call, and clears the mark. */
  boolean takeMembersChanged() {
    boolean changed = membersChanged;
    membersChanged = false;
    return changed;
  }

  /** The members whose node parsed, sorted by id; the table's own list, to be copied. */
  List<MemberInfo> members() {
    return members;
  }

  /** The leader: the newest claim wins while an old leader's flag has not been cleared yet. */
  Optional<String> leader() {
    String leader = null;
    long newest = -1;
    for (Map.Entry<String, Long> claim : leaderClaims.entrySet()) {
      if (claim.getValue() > newest) {
        leader = claim.getKey();
        newest = claim.getValue();
      }
    }
    return Optional.ofNullable(leader);
  }

  private void addMember(MemberInfo info) {
    int at = indexOf(info.id());
    if (at >= 0) {
      members.set(at, info);
    } else {
      members.add(-at - 1, info);
    }
    membersChanged = true;
  }

  private void removeMember(String id) {
    int at = indexOf(id);
    if (at >= 0) {
      members.remove(at);
      membersChanged = true;
    }
  }

  /** Binary search by id: the index, or {@code -(insertion point) - 1}. */
  private int indexOf(String id) {
    int low = 0;
    int high = members.size() - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int c = members.get(mid).id().compareTo(id);
      if (c < 0) {
        low = mid + 1;
      } else if (c > 0) {
        high = mid - 1;
      } else {
        return mid;
      }
    }
    return -(low + 1);
  }

  private Parsed parse(String id, ChildData child, long mzxid) {
    Stat stat = child.getStat();
    try {
      MemberCodec.Decoded read = MemberCodec.decode(id, child.getData(), stat);
      return new Parsed(mzxid, read.info(), read.leader());
    } catch (Exception e) {
      if (reportedCorrupt.add(child.getPath() + "@" + mzxid)) {
        String text =
            child.getData() == null ? "null" : new String(child.getData(), StandardCharsets.UTF_8);
        log.warn(
            "member node {} is left out of views: {} (data: {})",
            child.getPath(),
            e.getMessage(),
            text.length() > 120 ? text.substring(0, 120) + "..." : text);
      }
      return new Parsed(mzxid, null, false);
    }
  }
}
