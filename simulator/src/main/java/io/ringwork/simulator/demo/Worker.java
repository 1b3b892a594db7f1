package io.ringwork.simulator.demo;

/**
 * A worker of the demo, in this JVM ({@link LocalWorker}) or its own process ({@link ChildWorker}).
 */
interface Worker {
  String id();

  /** Partitions it owns (as last reported, for a process). */
  int owned();

  /** Whether its rebalancer is STABLE (as last reported, for a process). */
  boolean stable();

  /** Whether the group must settle with it: false while its process is frozen. */
  boolean counts();

  /** Hands over gracefully and stops. */
  void drain() throws Exception;

  /** Dies: kill -9 for a process; an in-process worker's session is ended on the server. */
  void crash() throws Exception;

  /** Leaves for a restart: its partitions stay reserved for its id for the restart grace. */
  void leaveForRestart() throws Exception;

  /** Freezes past its session timeout: SIGSTOP, or its thread held and its session ended. */
  void freeze() throws Exception;

  /** Runs again, with whatever it believed before the freeze. */
  void thaw() throws Exception;

  /** Stops without ceremony at the end of the demo. */
  void close();
}
