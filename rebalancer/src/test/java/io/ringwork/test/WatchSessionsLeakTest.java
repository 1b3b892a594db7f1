package io.ringwork.test;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link StrictHistory#watchSessions}'s handle removes its watch: the leak check would see it. */
final class WatchSessionsLeakTest {

  @RegisterExtension final RingworkZooKeeper zk = RingworkZooKeeper.embedded().checkingLeaks();

  @Test
  void closingTheHandle_leavesNoWatchOnTheServer_evenBeforeTheGroupExists() throws Exception {
    StrictHistory history = StrictHistory.create();
    AutoCloseable early = history.watchSessions(zk.client(), "/ringwork/none/members");
    early.close();
    zk.client().create().creatingParentsIfNeeded().forPath("/ringwork/g/members/a");
    AutoCloseable late = history.watchSessions(zk.client(), "/ringwork/g/members");
    late.close();
    zk.client().delete().deletingChildrenIfNeeded().forPath("/ringwork");
  }
}
