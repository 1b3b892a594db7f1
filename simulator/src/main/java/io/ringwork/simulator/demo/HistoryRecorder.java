package io.ringwork.simulator.demo;

import io.ringwork.test.StrictHistory;
import io.ringwork.test.StrictHistory.Incarnation;

/** Records one worker's holds into the strict history, under the session each was taken in. */
class HistoryRecorder implements DemoWork.Recorder {
  private final StrictHistory history;
  private final String id;

  HistoryRecorder(StrictHistory history, String id) {
    this.history = history;
    this.id = id;
  }

  @Override
  public void grantRead(long session, int partition, long token, long at) {
    history.grantRead(new Incarnation(id, session), partition, token, at);
  }

  @Override
  public void guard(
      long session,
      String key,
      int partition,
      long token,
      boolean fastPath,
      long opened,
      long closed) {
    history
        .guardOpened(
            new Incarnation(id, session),
            key,
            partition,
            StrictHistory.Mode.EXCLUSIVE,
            token,
            fastPath,
            opened)
        .close(closed);
  }

  @Override
  public void withdrawn(long session, long at) {
    history.withdrawn(new Incarnation(id, session), at);
  }
}
