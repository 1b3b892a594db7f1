package io.ringwork.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code ringwork.*} properties of one member. With relaxed binding, environment variables such
 * as {@code RINGWORK_CONNECT}, {@code RINGWORK_GROUP} and {@code RINGWORK_ID} set them too. A
 * working member needs three: {@code ringwork.connect}, {@code ringwork.group} and (unless the host
 * name will do) {@code ringwork.id}.
 */
@ConfigurationProperties(prefix = "ringwork")
public class RingworkProperties {

  /** The time a drain may take on shutdown, within Spring's graceful-shutdown phase. */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(20);

  /** Whether to configure a Ringwork member at all. */
  private boolean enabled = true;

  /**
   * ZooKeeper connect string, e.g. zk1:2181,zk2:2181. Not needed when the application defines its
   * own CuratorFramework bean.
   */
  private String connect;

  /** The group to join. */
  private String group;

  /** This member's id, unique in the group; the host name when not set. */
  private String id;

  /** The ZooKeeper path under which groups live. */
  private String namespace = "/ringwork";

  /** Relative capacity: a member of weight 2 gets twice the partitions of one of weight 1. */
  private double weight = 1.0;

  /** Failure zone; standbys are placed in other zones. */
  private String zone;

  /** Labels of this member, e.g. hw=ipmi, for label-filtered views. */
  private List<String> labels = new ArrayList<>();

  /** Placement strategy: balanced (coordinated, sticky), rendezvous (leaderless) or tooz. */
  private String strategy = "balanced";

  /** Partitions of the group, a power of two; the same on every member (stored in the group). */
  private Integer partitions;

  /** Owners per partition: the primary and its standbys. */
  private Integer replicas;

  /** Route keys on their prefix up to this character (e.g. '/'); the whole key when not set. */
  private Character routeUntil;

  /** ZooKeeper session timeout: how long a silent member keeps its grants on the server. */
  private Duration sessionTimeout = Duration.ofSeconds(10);

  /** How long onRevoked may take before the handoff goes on without it. */
  private Duration revokeDeadline = Duration.ofSeconds(5);

  /** How long a drain on shutdown may take before the member leaves anyway. */
  private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;

  /** Digest credentials USER:PASSWORD for the ZooKeeper client the starter creates. */
  private String auth;

  /**
   * Restart grace (e.g. 30s): on shutdown the member leaves for a restart instead of draining, and
   * its partitions stay reserved for its id for this long (also when its session ends without a
   * drain). Off when not set.
   */
  private Duration restartGrace;

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getConnect() {
    return connect;
  }

  public void setConnect(String connect) {
    this.connect = connect;
  }

  public String getGroup() {
    return group;
  }

  public void setGroup(String group) {
    this.group = group;
  }

  public String getId() {
    return id;
  }

  public void setId(String id) {
    this.id = id;
  }

  public String getNamespace() {
    return namespace;
  }

  public void setNamespace(String namespace) {
    this.namespace = namespace;
  }

  public double getWeight() {
    return weight;
  }

  public void setWeight(double weight) {
    this.weight = weight;
  }

  public String getZone() {
    return zone;
  }

  public void setZone(String zone) {
    this.zone = zone;
  }

  public List<String> getLabels() {
    return labels;
  }

  public void setLabels(List<String> labels) {
    this.labels = labels;
  }

  public String getStrategy() {
    return strategy;
  }

  public void setStrategy(String strategy) {
    this.strategy = strategy;
  }

  public Integer getPartitions() {
    return partitions;
  }

  public void setPartitions(Integer partitions) {
    this.partitions = partitions;
  }

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }

  public Character getRouteUntil() {
    return routeUntil;
  }

  public void setRouteUntil(Character routeUntil) {
    this.routeUntil = routeUntil;
  }

  public Duration getSessionTimeout() {
    return sessionTimeout;
  }

  public void setSessionTimeout(Duration sessionTimeout) {
    this.sessionTimeout = sessionTimeout;
  }

  public Duration getRevokeDeadline() {
    return revokeDeadline;
  }

  public void setRevokeDeadline(Duration revokeDeadline) {
    this.revokeDeadline = revokeDeadline;
  }

  public Duration getDrainTimeout() {
    return drainTimeout;
  }

  public void setDrainTimeout(Duration drainTimeout) {
    this.drainTimeout = drainTimeout;
  }

  public String getAuth() {
    return auth;
  }

  public void setAuth(String auth) {
    this.auth = auth;
  }

  public Duration getRestartGrace() {
    return restartGrace;
  }

  public void setRestartGrace(Duration restartGrace) {
    this.restartGrace = restartGrace;
  }
}
