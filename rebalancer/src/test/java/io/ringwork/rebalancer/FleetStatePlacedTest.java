package io.ringwork.rebalancer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.Membership;
import io.ringwork.ring.Member;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link FleetState#placed} without controls (its one-pass case, taken on every change by every
 * member) places what the rule says: the live workers that are not draining, sorted by id, whatever
 * order the workers come in.
 */
class FleetStatePlacedTest {

  @Test
  void withoutControlsPlacesTheWorkersThatAreNotDrainingSortedById() {
    for (long seed = 1; seed <= 200; seed++) {
      Random random = new Random(seed);
      List<MemberInfo> workers = new ArrayList<>();
      List<String> expected = new ArrayList<>();
      int n = random.nextInt(40);
      for (int i = 0; i < n; i++) {
        String id = String.format("w-%03d", i * 3 + random.nextInt(3));
        boolean draining = random.nextInt(4) == 0;
        workers.add(worker(id, draining));
        if (!draining) {
          expected.add(id);
        }
      }
      String where = "seed " + seed;
      assertEquals(expected, ids(FleetState.NONE.placed(workers)), where + ", sorted");
      Collections.shuffle(workers, random);
      assertEquals(expected, ids(FleetState.NONE.placed(workers)), where + ", shuffled");
    }
  }

  private static MemberInfo worker(String id, boolean draining) {
    Member m = new Member(id, 1, Optional.empty(), new TreeSet<>());
    return new MemberInfo(m, draining, 1, 0, 1, Membership.Role.WORKER);
  }

  private static List<String> ids(List<Member> members) {
    return members.stream().map(Member::id).toList();
  }
}
