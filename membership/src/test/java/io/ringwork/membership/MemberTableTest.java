package io.ringwork.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringwork.ring.Member;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * The incremental member table against a view rebuilt from every node: on random sequences of
 * joins, updates, leader claims, corrupt nodes, deletions and whole reloads, it shows the same
 * members in the same order and the same leader, and it never says "nothing changed" when something
 * a view shows did.
 */
class MemberTableTest {

  private static final String PREFIX = "/g/members/";

  @Test
  void matchesAViewRebuiltFromEveryNode() {
    for (long seed = 1; seed <= 150; seed++) {
      run(seed);
    }
  }

  @Test
  void newestLeaderClaimWinsAndAnOldFlagDoesNotOutliveItsNode() {
    MemberTable table = new MemberTable();
    table.apply("a", node("a", 5, member("a", 1, false), true));
    table.apply("b", node("b", 9, member("b", 1, false), true));
    assertEquals(Optional.of("b"), table.leader());
    table.apply("b", null);
    assertEquals(Optional.of("a"), table.leader());
    table.apply("a", node("a", 11, member("a", 1, false), false));
    assertEquals(Optional.empty(), table.leader());
  }

  private static void run(long seed) {
    Random random = new Random(seed);
    MemberTable table = new MemberTable();
    Map<String, ChildData> nodes = new HashMap<>();
    long zxid = 0;
    List<MemberInfo> shownMembers = List.of();
    Optional<String> shownLeader = Optional.empty();
    for (int step = 0; step < 200; step++) {
      String id = "m-" + random.nextInt(25);
      int op = random.nextInt(10);
      boolean changed;
      if (op == 0) { // a reload: a whole listing, perhaps after a few missed events
        for (int i = random.nextInt(4); i > 0; i--) {
          String other = "m-" + random.nextInt(25);
          if (random.nextBoolean()) {
            nodes.remove(other);
          } else {
            nodes.put(other, randomNode(random, other, ++zxid));
          }
        }
        changed = table.reload(new HashMap<>(nodes));
      } else if (op <= 2) {
        nodes.remove(id);
        changed = table.apply(id, null);
      } else if (op == 3 && nodes.containsKey(id)) { // rewritten with the same data
        ChildData old = nodes.get(id);
        Stat rewritten = stat(++zxid);
        rewritten.setCzxid(old.getStat().getCzxid()); // the same node, so the same incarnation
        ChildData again = new ChildData(old.getPath(), rewritten, old.getData());
        nodes.put(id, again);
        changed = table.apply(id, again);
      } else {
        ChildData child = randomNode(random, id, ++zxid);
        nodes.put(id, child);
        changed = table.apply(id, child);
      }
      List<MemberInfo> expectedMembers = new ArrayList<>();
      String expectedLeader = null;
      long newest = -1;
      for (Map.Entry<String, ChildData> e : new TreeMap<>(nodes).entrySet()) {
        MemberCodec.Decoded d;
        try {
          d = MemberCodec.decode(e.getKey(), e.getValue().getData(), e.getValue().getStat());
        } catch (IllegalArgumentException corrupt) {
          continue;
        }
        expectedMembers.add(d.info());
        if (d.leader() && e.getValue().getStat().getMzxid() > newest) {
          expectedLeader = e.getKey();
          newest = e.getValue().getStat().getMzxid();
        }
      }
      String where = "seed " + seed + " step " + step;
      assertEquals(expectedMembers, table.members(), where);
      assertEquals(Optional.ofNullable(expectedLeader), table.leader(), where);
      boolean membersDiffer = !expectedMembers.equals(shownMembers);
      boolean leaderDiffers = !Optional.ofNullable(expectedLeader).equals(shownLeader);
      if (membersDiffer || leaderDiffers) {
        assertTrue(changed, where + ": a visible change reported as none");
      }
      assertEquals(membersDiffer, changed && table.takeMembersChanged(), where);
      shownMembers = List.copyOf(expectedMembers);
      shownLeader = Optional.ofNullable(expectedLeader);
    }
  }

  private static ChildData randomNode(Random random, String id, long mzxid) {
    if (random.nextInt(12) == 0) {
      return new ChildData(PREFIX + id, stat(mzxid), "{not json".getBytes(StandardCharsets.UTF_8));
    }
    return node(
        id,
        mzxid,
        member(id, 1 + random.nextInt(3), random.nextInt(5) == 0),
        random.nextInt(4) == 0);
  }

  private static Member member(String id, double weight, boolean zoned) {
    return new Member(
        id, weight, zoned ? Optional.of("z1") : Optional.empty(), new java.util.TreeSet<>());
  }

  private static ChildData node(String id, long mzxid, Member m, boolean leader) {
    return new ChildData(
        PREFIX + id, stat(mzxid), MemberCodec.encode(m, false, Membership.Role.WORKER, leader));
  }

  private static Stat stat(long mzxid) {
    Stat stat = new Stat();
    stat.setMzxid(mzxid);
    stat.setCzxid(mzxid);
    return stat;
  }
}
