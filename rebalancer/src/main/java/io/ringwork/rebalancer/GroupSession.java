package io.ringwork.rebalancer;

import io.ringwork.ring.Member;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;

/**
 * What the rebalancer needs of group membership: the live members, this member's session state,
 * leadership, and the ZooKeeper client and paths. {@link MembershipSession} provides it over {@code
 * ringwork-membership}.
 */
interface GroupSession extends AutoCloseable {

  /** Receives membership events; called from a membership thread, never ZooKeeper's. */
  interface Events {
    void onView();

    void onSuspended();

    void onResumed();

    void onLost();

    void onLeadership(boolean leader);
  }

  /** A live member and whether it is draining. */
  record LiveMember(Member member, boolean draining) {}

  /** Connects to ZooKeeper without joining. */
  void connect();

  /** Joins the group and starts delivering events. */
  void start(Events events);

  /** Leaves the group; idempotent and quiet. */
  @Override
  void close();

  CuratorFramework client();

  /** The group's root znode, for example {@code /ringwork/conductors}. */
  String groupPath();

  String selfId();

  /** Whether this member is joined with a live session right now. */
  boolean joined();

  /** The zxid that created this member's node, its incarnation; 0 before joining. */
  long incarnation();

  /** The live members, this one included once joined. */
  List<LiveMember> members();

  boolean isLeader();

  /** Sets this member's draining flag in its member data. */
  void setDraining(boolean draining);
}
