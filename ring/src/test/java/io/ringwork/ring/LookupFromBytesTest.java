package io.ringwork.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** Issue 10, item 5: lookups from UTF-8 bytes and by id agree with the String lookup. */
final class LookupFromBytesTest {

  private static final Assignment TABLE = table();

  private static Assignment table() {
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      members.add(Member.of("member-" + i));
    }
    return Placement.newBuilder().partitions(1024).buildPartitioned().assign(null, members);
  }

  @Property
  void bytesAndIdLookups_agreeWithTheStringLookup(@ForAll @StringLength(max = 300) String key) {
    byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
    Member primary = TABLE.primary(key);
    assertThat(TABLE.partitioner().partitionOfRoutingKey(utf8)).isEqualTo(TABLE.partition(key));
    assertThat(TABLE.primaryOfRoutingKey(utf8)).isEqualTo(primary);
    assertThat(TABLE.primaryIdOfRoutingKey(utf8)).isEqualTo(primary.id());
    assertThat(TABLE.primaryId(key)).isEqualTo(primary.id());
    assertThat(TABLE.primaryOfRoutingKey(ByteBuffer.wrap(utf8))).isEqualTo(primary);
    ByteBuffer direct = ByteBuffer.allocateDirect(utf8.length + 3);
    direct.put(new byte[] {1, 2, 3}).put(utf8).position(3);
    assertThat(TABLE.primaryOfRoutingKey(direct)).isEqualTo(primary);
    assertThat(direct.position()).as("the buffer is left as it was").isEqualTo(3);
  }

  @Property
  void stringHash_equalsHashOfGetBytes(@ForAll @StringLength(max = 300) String key) {
    // ASCII keys take the bulk-copy path, others the encoder: both must hash the UTF-8 bytes.
    assertThat(Partitioner.hash(key))
        .isEqualTo(Partitioner.hash(key.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void latin1AndWideChars_takeTheEncoderNotTheAsciiCopy() {
    for (String key :
        List.of("café", "node-\u0141", "stack-\uD83D\uDE00", "lone-\uD800", "\u00ff")) {
      assertThat(Partitioner.hash(key))
          .as(key)
          .isEqualTo(Partitioner.hash(key.getBytes(StandardCharsets.UTF_8)));
    }
  }

  @Test
  void rangeOfBytes_checked() {
    byte[] utf8 = "xnode-1x".getBytes(StandardCharsets.UTF_8);
    assertThat(TABLE.partitioner().partitionOfRoutingKey(utf8, 1, 6))
        .isEqualTo(TABLE.partition("node-1"));
    assertThatThrownBy(() -> TABLE.partitioner().partitionOfRoutingKey(utf8, 5, 6))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }
}
