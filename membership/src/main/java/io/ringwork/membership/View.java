package io.ringwork.membership;

import io.ringwork.ring.Member;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * An immutable snapshot of a group's live members, sorted by id.
 *
 * @param version grows with every new view this process sees
 * @param members the live members, sorted by id
 * @param leader the id of the elected leader, if there is one
 */
public record View(long version, List<MemberInfo> members, Optional<String> leader) {

  /** Creates a view; the list is copied. */
  public View {
    members = List.copyOf(members);
  }

  /** Returns the view of the members that carry every one of {@code labels}. */
  public View filter(Collection<String> labels) {
    return new View(
        version, members.stream().filter(m -> m.member().hasLabels(labels)).toList(), leader);
  }

  /** Returns the members that are not draining, as ring members. */
  public List<Member> activeMembers() {
    return members.stream().filter(m -> !m.draining()).map(MemberInfo::member).toList();
  }

  /** Returns the member with this id, if it is live. */
  public Optional<MemberInfo> member(String id) {
    return members.stream().filter(m -> m.id().equals(id)).findFirst();
  }
}
