package io.ringwork.simulator.cli;

/** A failure at run time (unreachable ZooKeeper, a refused join): the CLI exits with status 1. */
public final class RuntimeFailure extends RuntimeException {

  public RuntimeFailure(String message) {
    super(message);
  }
}
