package io.ringwork.simulator.plan;

import java.util.List;

/**
 * What one step of a plan did.
 *
 * @param step the step's label ("2", or "2.1" for a throttled sub-step)
 * @param change what changed
 * @param members members after the step
 * @param moved partitions (or keys, for key-level strategies) whose primary changed
 * @param optimalMoved the minimum any placement keeping exact quotas must move
 * @param keysMoved keys whose owner changed, when keys were given; -1 otherwise
 * @param keysOptimal the key-level minimum, when keys were given; -1 otherwise
 * @param peakToAverage the most loaded member's load over its fair share
 * @param minToAverage the least loaded member's load over its fair share
 * @param zoneViolations partitions whose owners share a zone although enough zones exist
 * @param rows per-member before, after and quota
 * @param rowsTruncated whether {@code rows} leaves out unchanged members of a large cluster
 * @param computeMillis the time to compute the new placement
 */
record StepResult(
    String step,
    String change,
    int members,
    long moved,
    long optimalMoved,
    long keysMoved,
    long keysOptimal,
    double peakToAverage,
    double minToAverage,
    long zoneViolations,
    List<Row> rows,
    boolean rowsTruncated,
    double computeMillis) {

  /** One member's load before and after the step, and its fair share. */
  record Row(String id, long before, long after, long quota) {}
}
