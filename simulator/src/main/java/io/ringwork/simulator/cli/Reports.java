package io.ringwork.simulator.cli;

/** What every machine-readable output of the CLI shares. */
public final class Reports {

  /** The version of every machine-readable output's schema (the README documents them). */
  public static final int FORMAT = 1;

  private Reports() {}
}
