package io.ringwork.rebalancer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.ring.Member;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The typed handoff state keeps the wire form members of earlier releases read and write: "v" and
 * the version in decimal, "d" and the digest in unsigned lower-case hex; and two states are equal
 * exactly when their wire forms are (what the string comparisons it replaced decided).
 */
final class HandoffStateTest {

  @Test
  void wireForm_isTheStringsEarlierReleasesWrite() {
    assertThat(HandoffState.version(42).wire()).isEqualTo("v42");
    assertThat(HandoffState.digest(0xabcL).wire()).isEqualTo("dabc");
    assertThat(HandoffState.digest(-1L).wire()).isEqualTo("dffffffffffffffff");
    assertThat(HandoffState.NONE.wire()).isEmpty();
    // The digest of a member set, as the string form of earlier releases computed it.
    List<Member> members = List.of(Member.of("b", 2), Member.of("a"));
    String canonical = "a\u00011.0\u0001\u0002b\u00012.0\u0001\u0002";
    assertThat(LeaderlessMode.digest(members).wire())
        .isEqualTo("d" + Long.toHexString(io.ringwork.ring.Partitioner.hash(canonical)));
  }

  @Test
  void parse_readsBackWhatIsWritten_andKeepsAnythingElseAsForeign() {
    assertThat(HandoffState.parse("v7")).isEqualTo(HandoffState.version(7));
    assertThat(HandoffState.parse("d0")).isEqualTo(HandoffState.digest(0));
    assertThat(HandoffState.parse("dffffffffffffffff")).isEqualTo(HandoffState.digest(-1));
    assertThat(HandoffState.parse("")).isSameAs(HandoffState.NONE);
    assertThat(HandoffState.parse(null)).isSameAs(HandoffState.NONE);
    for (String foreign : List.of("v007", "v+7", "v", "d", "dABC", "d0ab", "x1", "7", "vx")) {
      HandoffState read = HandoffState.parse(foreign);
      assertThat(read).as(foreign).isInstanceOf(HandoffState.Foreign.class);
      assertThat(read.wire()).isEqualTo(foreign);
    }
    assertThat(HandoffState.parse("v007")).isNotEqualTo(HandoffState.version(7));
  }

  @Test
  void equality_isEqualityOfWireForms() {
    SplittableRandom random = new SplittableRandom(21);
    String[] alphabet = {"v", "d", "0", "1", "7", "a", "f", "F", "-", "+", "x", ""};
    for (int i = 0; i < 20_000; i++) {
      String a = word(random, alphabet);
      String b = random.nextInt(4) == 0 ? a : word(random, alphabet);
      HandoffState x = HandoffState.parse(a);
      HandoffState y = HandoffState.parse(b);
      assertThat(x.wire()).isEqualTo(a);
      assertThat(x.equals(y)).as("%s vs %s", a, b).isEqualTo(a.equals(b));
    }
    for (int i = 0; i < 1_000; i++) {
      long n = random.nextLong();
      assertThat(HandoffState.parse(HandoffState.version(n).wire()))
          .isEqualTo(HandoffState.version(n));
      assertThat(HandoffState.parse(HandoffState.digest(n).wire()))
          .isEqualTo(HandoffState.digest(n));
    }
  }

  @Test
  void ackAndBarrierBytes_areTheStoredFormsOfEarlierReleases() {
    assertThat(new String(AckCodec.encode(HandoffState.version(12), 345), UTF_8))
        .isEqualTo("{\"format\":1,\"state\":\"v12\",\"incarnation\":345}");
    assertThat(new String(BarrierCodec.encode(HandoffState.digest(0xbeefL), 678), UTF_8))
        .isEqualTo("{\"format\":1,\"state\":\"dbeef\",\"readZxid\":678}");
    assertThat(AckCodec.decode("{\"format\":1,\"state\":\"v12\",\"incarnation\":345}".getBytes()))
        .isEqualTo(new AckCodec.Written(HandoffState.version(12), 345));
    assertThat(
            BarrierCodec.decode("{\"format\":1,\"state\":\"dbeef\",\"readZxid\":678}".getBytes()))
        .isEqualTo(new BarrierCodec.Written(HandoffState.digest(0xbeef), 678));
    // An acknowledgement without a textual state, or of another format, is unreadable (it blocks).
    assertThatThrownBy(() -> AckCodec.decode("{\"format\":1,\"state\":3}".getBytes()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AckCodec.decode("{\"format\":2,\"state\":\"v1\"}".getBytes()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BarrierCodec.decode("[".getBytes()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(BarrierCodec.decode("{\"format\":1}".getBytes()).state())
        .isSameAs(HandoffState.NONE);
  }

  private static String word(SplittableRandom random, String[] alphabet) {
    StringBuilder sb = new StringBuilder();
    int length = random.nextInt(5);
    for (int i = 0; i < length; i++) {
      sb.append(alphabet[random.nextInt(alphabet.length)]);
    }
    return sb.toString();
  }
}
