/**
 * Plumbing between Ringwork's own modules and tools: not API. What is here is public only so that
 * the Spring starter, the command line and Ringwork's tests can reach a rebalancer's Curator
 * client; it may change or go in any release without notice. Applications that need the client give
 * the rebalancer their own ({@link io.ringwork.rebalancer.RebalancerBuilder#curator}).
 */
package io.ringwork.rebalancer.internal;
