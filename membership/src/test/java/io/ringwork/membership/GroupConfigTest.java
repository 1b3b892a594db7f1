package io.ringwork.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ringwork.ring.KeyRouter;
import io.ringwork.ring.Member;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The group config and member data codecs write exactly the bytes earlier releases wrote (members
 * of both interoperate in one group) and read them back.
 */
final class GroupConfigTest {

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Test
  void config_bytesAreTheStoredFormOfEarlierReleases() {
    assertThat(text(GroupConfig.of("balanced", 256, 2, KeyRouter.wholeKey()).toBytes()))
        .isEqualTo(
            "{\"format\":1,\"partitions\":256,\"hash\":\"xxh3-64-top-bits\","
                + "\"strategy\":\"balanced\",\"replicas\":2,\"router\":\"whole-key\"}");
    assertThat(text(GroupConfig.of("tooz", 32, 1, KeyRouter.upTo('/')).toBytes()))
        .isEqualTo(
            "{\"format\":1,\"partitions\":32,\"hash\":\"xxh3-64-top-bits\","
                + "\"strategy\":\"tooz\",\"replicas\":1,\"router\":\"up-to:/\"}");
    // What a lock service that starts first writes (lock-fallback's literal form).
    assertThat(text(GroupConfig.partial(16).toBytes()))
        .isEqualTo("{\"format\":1,\"partitions\":16,\"hash\":\"xxh3-64-top-bits\"}");
  }

  @Test
  void config_readsBackWhatItWrites_andNamesWhatIsUnreadable() {
    GroupConfig c = GroupConfig.of("rendezvous", 64, 3, KeyRouter.upTo(':'));
    assertThat(GroupConfig.parse(c.toBytes())).isEqualTo(c);
    assertThat(GroupConfig.parse(c.toBytes()).keyRouter()).contains(KeyRouter.upTo(':'));
    GroupConfig partial = GroupConfig.parse(GroupConfig.partial(8).toBytes());
    assertThat(partial.isPartial()).isTrue();
    assertThat(partial.isTooz()).isFalse();
    assertThat(
            GroupConfig.parse("{\"format\":1,\"partitions\":8,\"hash\":\"h\",\"x\":1}".getBytes()))
        .as("unknown fields are ignored")
        .isEqualTo(new GroupConfig(8, "h", null, 0, null));
    assertThatThrownBy(() -> GroupConfig.parse("{\"format\":2}".getBytes()))
        .hasMessageContaining("unknown format");
    assertThatThrownBy(() -> GroupConfig.parse("not json".getBytes()))
        .hasMessageContaining("not json");
  }

  @Test
  void config_differences_nameEachFieldAndSkipWhatAPartialConfigCannotSay() {
    GroupConfig mine = GroupConfig.of("balanced", 256, 2, KeyRouter.wholeKey());
    assertThat(mine.differencesFrom(mine)).isEmpty();
    assertThat(GroupConfig.of("rendezvous", 128, 2, KeyRouter.wholeKey()).differencesFrom(mine))
        .containsExactly(
            "partitions is 128 in the group but 256 here",
            "strategy is rendezvous in the group but balanced here");
    // A lock service's config: only the count and hash are compared.
    assertThat(GroupConfig.partial(256).differencesFrom(mine)).isEmpty();
    assertThat(GroupConfig.partial(16).differencesFrom(mine))
        .containsExactly("partitions is 16 in the group but 256 here");
    // ... and not the count for a tooz member (its "partitions" are points per member).
    assertThat(GroupConfig.partial(16).differencesFrom(GroupConfig.of("tooz", 32, 1, null)))
        .isEmpty();
    // The router only when both name one.
    assertThat(GroupConfig.of("balanced", 256, 2, null).differencesFrom(mine)).isEmpty();
    assertThat(GroupConfig.of("balanced", 256, 2, KeyRouter.upTo('/')).differencesFrom(mine))
        .containsExactly("router is up-to:/ in the group but whole-key here");
  }

  @Test
  void memberData_bytesAreTheStoredFormOfEarlierReleases_andReadBack() {
    Member m =
        new Member(
            "m1", 2.0, java.util.Optional.of("eu-1"), new java.util.TreeSet<>(Set.of("gpu", "a")));
    byte[] worker = MemberCodec.encode(m, false, Membership.Role.WORKER, false);
    assertThat(text(worker))
        .isEqualTo(
            "{\"format\":1,\"weight\":2.0,\"zone\":\"eu-1\",\"labels\":[\"a\",\"gpu\"],"
                + "\"draining\":false}");
    assertThat(text(MemberCodec.encode(Member.of("o"), true, Membership.Role.OBSERVER, true)))
        .isEqualTo(
            "{\"format\":1,\"weight\":1.0,\"labels\":[],\"draining\":true,"
                + "\"role\":\"observer\",\"leader\":true}");
    MemberCodec.Decoded read = MemberCodec.decode("m1", worker, null);
    assertThat(read.info().member()).isEqualTo(m);
    assertThat(read.info().role()).isEqualTo(Membership.Role.WORKER);
    assertThat(read.leader()).isFalse();
    assertThat(
            MemberCodec.decode(
                    "o",
                    MemberCodec.encode(Member.of("o"), true, Membership.Role.OBSERVER, true),
                    null)
                .leader())
        .isTrue();
    assertThatThrownBy(() -> MemberCodec.decode("x", "{\"format\":1}".getBytes(), null))
        .hasMessage("weight is missing or not a number");
    assertThatThrownBy(() -> MemberCodec.decode("x", "{\"format\":3}".getBytes(), null))
        .hasMessage("unknown format 3");
  }
}
