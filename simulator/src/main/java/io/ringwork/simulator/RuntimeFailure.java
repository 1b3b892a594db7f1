package io.ringwork.simulator;

/** A failure at run time (unreachable ZooKeeper, a refused join): the CLI exits with status 1. */
final class RuntimeFailure extends RuntimeException {

  RuntimeFailure(String message) {
    super(message);
  }
}
