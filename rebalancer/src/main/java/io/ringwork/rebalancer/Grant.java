package io.ringwork.rebalancer;

/**
 * The right to act on one partition: held by exactly one member at a time.
 *
 * <p>A resource that stores the highest token it has seen per partition and rejects lower ones
 * turns away a paused, stale owner (Kleppmann's fencing tokens). Tokens increase strictly per
 * partition across owners and across incarnations of one owner.
 *
 * @param partition the partition, in {@code [0, P)}
 * @param token the fencing token: a ZooKeeper zxid, strictly increasing per partition
 * @param version the assignment version that granted it
 */
public record Grant(int partition, long token, long version) {}
