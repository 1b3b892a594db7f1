package io.ringwork.ring;

import java.util.List;

/**
 * A computed mapping from keys to their ordered owners.
 *
 * <p>Implementations are immutable snapshots: {@link Assignment} for the partitioned strategies
 * ({@link Strategy#BALANCED}, {@link Strategy#RENDEZVOUS}) and {@link ToozRing} for tooz parity,
 * which maps keys directly.
 */
public interface Ring {

  /** Returns the strategy that computed this ring. */
  Strategy strategy();

  /** Returns the members this ring was computed for, sorted by id. */
  List<Member> members();

  /**
   * Returns the primary owner of a key. An {@link Assignment} answers without allocating.
   *
   * @throws NullPointerException if the key is null
   */
  Member primary(String key);

  /**
   * Returns the owners of a key, primary first, then standbys.
   *
   * @throws NullPointerException if the key is null
   */
  List<Member> owners(String key);
}
