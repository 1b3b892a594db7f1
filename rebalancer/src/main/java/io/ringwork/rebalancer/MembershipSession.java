package io.ringwork.rebalancer;

import io.ringwork.membership.GroupPaths;
import io.ringwork.membership.MemberInfo;
import io.ringwork.membership.Membership;
import io.ringwork.membership.MembershipListener;
import io.ringwork.membership.View;
import io.ringwork.membership.internal.ConnectionSettings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;

/** The rebalancer's view of group membership, over {@link Membership}. */
final class MembershipSession implements GroupSession {

  private final Membership membership;
  private volatile Events events;
  private volatile Workers workers;

  private MembershipSession(Membership membership) {
    this.membership = membership;
  }

  static MembershipSession create(RebalancerBuilder b) {
    Membership.Builder mb =
        Membership.newBuilder()
            .group(b.group())
            .member(b.member())
            .namespace(b.namespace())
            .sessionTimeout(b.sessionTimeout())
            .connectTimeout(b.connectTimeout())
            .role(Membership.Role.WORKER);
    ConnectionSettings c = b.connection();
    if (c.curator() != null) {
      mb.curator(c.curator());
    } else if (c.embedded()) {
      mb.embedded(c.embeddedDataDir(), c.embeddedPort());
    } else {
      mb.connectString(c.connectString());
    }
    MembershipSession session = new MembershipSession(mb.build());
    session.membership.addListener(
        new MembershipListener() {
          @Override
          public void onView(View view) {
            session.fire(Events::onView);
          }

          @Override
          public void onSuspended() {
            session.fire(Events::onSuspended);
          }

          @Override
          public void onResumed() {
            session.fire(Events::onResumed);
          }

          @Override
          public void onLost() {
            session.fire(Events::onLost);
          }

          @Override
          public void onLeadership(boolean leader) {
            session.fire(e -> e.onLeadership(leader));
          }
        });
    return session;
  }

  private void fire(java.util.function.Consumer<Events> call) {
    Events e = events;
    if (e != null) {
      call.accept(e);
    }
  }

  @Override
  public void connect() {
    // The rebalancer checks the group config before it joins: connect without joining.
    try {
      membership.connect();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting", e);
    }
  }

  @Override
  public void start(Events listener) {
    this.events = listener;
    membership.start();
  }

  @Override
  public void close() {
    membership.close();
  }

  @Override
  public CuratorFramework client() {
    return membership.client();
  }

  @Override
  public GroupPaths paths() {
    return membership.paths();
  }

  @Override
  public String selfId() {
    return membership.self().id();
  }

  @Override
  public boolean joined() {
    return membership.isJoined();
  }

  @Override
  public long incarnation() {
    return membership.incarnation();
  }

  @Override
  public long sessionId() {
    return membership.sessionId();
  }

  @Override
  public List<MemberInfo> workers() {
    View view = membership.view();
    Workers cached = workers;
    if (cached != null && cached.view() == view) {
      return cached.list();
    }
    List<MemberInfo> list = new ArrayList<>();
    for (MemberInfo m : view.members()) {
      if (m.isWorker()) {
        list.add(m);
      }
    }
    List<MemberInfo> result = Collections.unmodifiableList(list);
    workers = new Workers(view, result);
    return result;
  }

  /** The workers of one view, computed once per view: the same list object until it changes. */
  private record Workers(View view, List<MemberInfo> list) {}

  @Override
  public boolean isLeader() {
    return membership.isLeader();
  }

  @Override
  public void setDraining(boolean draining) {
    membership.setDraining(draining);
  }
}
