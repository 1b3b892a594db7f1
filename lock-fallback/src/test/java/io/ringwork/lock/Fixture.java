package io.ringwork.lock;

import io.ringwork.ring.KeyRouter;
import io.ringwork.test.RingworkZooKeeper;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/** Clients and lock services for one test, closed together. */
final class Fixture implements AutoCloseable {

  static final String GROUP = "g";

  private final RingworkZooKeeper zk;
  private final List<AutoCloseable> open = new ArrayList<>();

  Fixture(RingworkZooKeeper zk) {
    this.zk = zk;
  }

  CuratorFramework client(int sessionMs) {
    CuratorFramework c =
        CuratorFrameworkFactory.builder()
            .connectString(zk.connectString())
            .sessionTimeoutMs(sessionMs)
            .connectionTimeoutMs(2000)
            .retryPolicy(new ExponentialBackoffRetry(50, 5, 500))
            .ensembleTracker(false)
            .build();
    c.start();
    open.add(0, c);
    return c;
  }

  KeyLocks locks(String member) {
    return locks(member, client(4000), KeyRouter.wholeKey());
  }

  KeyLocks locks(String member, CuratorFramework client, KeyRouter router) {
    KeyLocks l =
        KeyLocks.newBuilder()
            .client(client)
            .group(GROUP)
            .memberId(member)
            .partitions(16)
            .router(router)
            .build();
    l.start();
    open.add(0, l);
    return l;
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }
}
