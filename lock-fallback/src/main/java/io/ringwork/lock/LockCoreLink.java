package io.ringwork.lock;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;

/** The key-lock core as the owner side sees it ({@link KeyLockCore}). */
final class LockCoreLink implements KeyLockCore {

  private final LockCore core;
  private final Acquisition acquisition;
  private final Holds holds;

  LockCoreLink(LockCore core, Acquisition acquisition, Holds holds) {
    this.core = core;
    this.acquisition = acquisition;
    this.holds = holds;
  }

  @Override
  public String memberId() {
    return core.selfId;
  }

  @Override
  public LockHandle acquire(LockRequest request) throws LockTimeoutException, InterruptedException {
    return acquisition.acquire(request);
  }

  @Override
  public boolean ownRequest(String requestId) {
    return holds.ownRequest(requestId);
  }

  @Override
  public long sessionId() {
    return core.sessionIdOrZero();
  }

  @Override
  public boolean submit(Runnable task) {
    return core.submit(task);
  }

  @Override
  public void schedule(Runnable task, long delayMillis) {
    core.schedule(task, delayMillis);
  }

  @Override
  public void runGuarded(Runnable call, String what, String key) {
    core.runGuarded(call, what, key);
  }

  @Override
  public void watchTree(String path, TreeListener listener)
      throws KeeperException, InterruptedException {
    Watcher w =
        event ->
            core.submit(
                () ->
                    listener.changed(
                        event.getPath() == null ? null : core.unfix(event.getPath()),
                        event.getType(),
                        event.getZxid()));
    core.zk().addWatch(core.fix(path), w, AddWatchMode.PERSISTENT_RECURSIVE);
  }
}
