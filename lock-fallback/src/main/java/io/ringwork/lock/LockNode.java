package io.ringwork.lock;

/**
 * One child of a lock queue, parsed from its name alone (no read needed to order a queue).
 *
 * <pre>
 * r-&lt;M&gt;&lt;T&gt;-&lt;request&gt;-&lt;key&gt;-&lt;seq&gt;   a lock request: mode M (S, U, X) as requested, T = k
 *                                  (this key) or t (its subtree), the percent-encoded key
 * u-&lt;base&gt;-&lt;request&gt;-&lt;seq&gt;        an upgrade to EXCLUSIVE of the request named base
 * y-&lt;request&gt;-&lt;session&gt;           the partition owner's yield for a request, in its session
 * </pre>
 *
 * Request ids are 32 hex digits, random per request (the "GUID" of ZooKeeper's lock recipe, by
 * which a create whose reply was lost is found again). The sequence is only an order within one
 * queue; it is never a token (it restarts when an empty queue is reaped). A request's mode may have
 * been lowered since its creation by a downgrade, which rewrites the node's data, never its name.
 *
 * @param kind what the node is
 * @param name the node name
 * @param mode the requested mode (EXCLUSIVE for an upgrade, null for a yield)
 * @param subtree whether a request covers its key's subtree
 * @param request the request id
 * @param base the request an upgrade belongs to, or the request a yield is for
 * @param key the full key (requests only; null otherwise)
 * @param seq the sequence suffix, -1 for a yield
 * @param session the owner session of a yield, in hex (yields only)
 */
record LockNode(
    Kind kind,
    String name,
    LockMode mode,
    boolean subtree,
    String request,
    String base,
    String key,
    long seq,
    String session) {

  /** The kinds of queue children. */
  enum Kind {
    REQUEST,
    UPGRADE,
    YIELD
  }

  static final int ID_LENGTH = 32;
  private static final int SEQ_LENGTH = 10;

  /** The prefix of a request's node name; ZooKeeper appends the sequence. */
  static String requestPrefix(LockMode mode, boolean subtree, String request, String key) {
    return "r-"
        + mode.code()
        + (subtree ? 't' : 'k')
        + "-"
        + request
        + "-"
        + LockKeys.encode(key)
        + "-";
  }

  /** The prefix of an upgrade's node name. */
  static String upgradePrefix(String base, String request) {
    return "u-" + base + "-" + request + "-";
  }

  /** The name of an owner's yield for a request. */
  static String yieldName(String request, long session) {
    return "y-" + request + "-" + Long.toHexString(session);
  }

  /** Parses a queue child's name; null when it is not one of ours. */
  static LockNode parse(String name) {
    try {
      if (name.startsWith("r-") && name.length() >= 5 + ID_LENGTH + 3 + SEQ_LENGTH) {
        LockMode mode = LockMode.ofCode(name.charAt(2));
        char t = name.charAt(3);
        if (mode == null || (t != 'k' && t != 't') || name.charAt(4) != '-') {
          return null;
        }
        String request = name.substring(5, 5 + ID_LENGTH);
        int keyStart = 5 + ID_LENGTH + 1;
        int seqStart = name.length() - SEQ_LENGTH;
        if (name.charAt(keyStart - 1) != '-' || name.charAt(seqStart - 1) != '-') {
          return null;
        }
        String key = LockKeys.decode(name.substring(keyStart, seqStart - 1));
        long seq = Long.parseLong(name.substring(seqStart));
        return new LockNode(Kind.REQUEST, name, mode, t == 't', request, null, key, seq, null);
      }
      if (name.startsWith("u-") && name.length() == 2 + 2 * ID_LENGTH + 2 + SEQ_LENGTH) {
        String base = name.substring(2, 2 + ID_LENGTH);
        String request = name.substring(3 + ID_LENGTH, 3 + 2 * ID_LENGTH);
        long seq = Long.parseLong(name.substring(name.length() - SEQ_LENGTH));
        return new LockNode(
            Kind.UPGRADE, name, LockMode.EXCLUSIVE, false, request, base, null, seq, null);
      }
      if (name.startsWith("y-") && name.length() > 3 + ID_LENGTH) {
        String request = name.substring(2, 2 + ID_LENGTH);
        String session = name.substring(3 + ID_LENGTH);
        Long.parseUnsignedLong(session, 16);
        return new LockNode(Kind.YIELD, name, null, false, null, request, null, -1, session);
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    return null;
  }
}
