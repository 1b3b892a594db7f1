package io.ringwork.ring;

/**
 * Chooses the routing key of a resource key: the part of the key that decides its partition.
 *
 * <p>The routing key is always a prefix of the key, given by its end index, so routing never
 * allocates. Resources that share a routing key share a partition and therefore an owner; a Heat
 * style stack and its nested stacks ({@code "stack-1"}, {@code "stack-1/nested/a"}) land together
 * with {@link #upTo(char) upTo('/')}.
 */
@FunctionalInterface
public interface KeyRouter {

  /**
   * Returns the end index (exclusive) of the routing key within {@code key}; the routing key is
   * {@code key.substring(0, routingKeyEnd(key))}. The result is between 0 and {@code key.length()}.
   */
  int routingKeyEnd(String key);

  /** Returns the router that uses the whole key. This is the default. */
  static KeyRouter wholeKey() {
    return WholeKey.INSTANCE;
  }

  /**
   * Returns a hierarchical router whose routing key is the key up to, not including, the first
   * {@code separator}; a key without the separator is its own routing key.
   */
  static KeyRouter upTo(char separator) {
    return new UpTo(separator);
  }

  /** The router that routes on the whole key. */
  enum WholeKey implements KeyRouter {
    INSTANCE;

    @Override
    public int routingKeyEnd(String key) {
      return key.length();
    }

    @Override
    public String toString() {
      return "wholeKey";
    }
  }

  /**
   * The router that routes on the key up to the first separator.
   *
   * @param separator the character that ends the routing key
   */
  record UpTo(char separator) implements KeyRouter {
    @Override
    public int routingKeyEnd(String key) {
      int i = key.indexOf(separator);
      return i < 0 ? key.length() : i;
    }
  }
}
