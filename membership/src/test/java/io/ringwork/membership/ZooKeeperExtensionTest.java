package io.ringwork.membership;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.ring.Member;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The fixture's leak check fails while a member is still joined, and passes once it is closed. */
final class ZooKeeperExtensionTest {

  @RegisterExtension final ZooKeeperExtension zk = ZooKeeperExtension.server();

  @Test
  void leakCheck_seesAnOpenMembersNodeAndWatches_thenNothingAfterClose() {
    Membership m =
        Membership.newBuilder()
            .group("g")
            .member(Member.of("left-open"))
            .connectString(zk.connectString())
            .build();
    m.start();
    assertThatThrownBy(() -> zk.assertNoLeaks(Duration.ofMillis(500)))
        .hasStackTraceContaining("left-open");
    m.close();
    zk.assertNoLeaks();
  }
}
