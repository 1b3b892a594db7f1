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
    // The check must fail (the member is still open); its window only has to be long enough for
    // one look to complete: at load 68 no look completed within 500 ms and the failure named
    // nothing.
    assertThatThrownBy(() -> zk.assertNoLeaks(Duration.ofSeconds(3)))
        .hasStackTraceContaining("left-open");
    m.close();
    zk.assertNoLeaks();
  }
}
