package io.ringwork.rebalancer;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.MemberInfo;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;

/**
 * What the rebalancer needs of group membership: the live workers, this member's session state,
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

  /** Connects to ZooKeeper without joining. */
  void connect();

  /** Joins the group and starts delivering events. */
  void start(Events events);

  /** Leaves the group; idempotent and quiet. */
  @Override
  void close();

  CuratorFramework client();

  /** The group's ZooKeeper layout. */
  GroupPaths paths();

  String selfId();

  /** Whether this member is joined with a live session right now. */
  boolean joined();

  /** The zxid that created this member's node, its incarnation; 0 before joining. */
  long incarnation();

  /** The ZooKeeper session of this member's current incarnation; 0 before joining. */
  long sessionId();

  /** The live workers (observers left out), this one included once joined, draining or not. */
  List<MemberInfo> workers();

  boolean isLeader();

  /** Sets this member's draining flag in its member data. */
  void setDraining(boolean draining);
}
