/**
 * Plumbing between Ringwork's own modules: not API. What is here is public only so that the
 * rebalancer can drive the lock module's owner side; it may change or go in any release without
 * notice. Applications use {@link io.ringwork.lock.KeyLocks} and the rebalancer's guards instead.
 */
package io.ringwork.lock.internal;
