package io.ringwork.lock;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The rules for lock keys and how a key is written into a node name.
 *
 * <p>A key is 1 to {@value #MAX_KEY_BYTES} bytes of UTF-8, without a leading or trailing {@code /}
 * and without empty segments ({@code //}): {@code /} separates the levels of a hierarchical key
 * ({@code stack-7/nested-2}). In node names a key is percent-encoded: printable ASCII other than
 * {@code /} and {@code %} stays as it is, everything else becomes {@code %XX} of its UTF-8 bytes.
 */
final class LockKeys {

  /** The longest key, in UTF-8 bytes. */
  static final int MAX_KEY_BYTES = 1024;

  /** The longest purpose, in characters. */
  static final int MAX_PURPOSE_CHARS = 256;

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private LockKeys() {}

  /**
   * Checks a key.
   *
   * @throws IllegalArgumentException naming the key and the rule it breaks
   */
  static String check(String key) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("lock key must not be empty");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (Character.isSurrogate(c)) {
        boolean pair =
            Character.isHighSurrogate(c)
                && i + 1 < key.length()
                && Character.isLowSurrogate(key.charAt(i + 1));
        if (!pair) {
          throw new IllegalArgumentException(
              "lock key is not valid UTF-16 (lone surrogate at index " + i + "): " + shown(key));
        }
        i++;
      }
    }
    int bytes = key.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "lock key must be at most "
              + MAX_KEY_BYTES
              + " bytes of UTF-8, got "
              + bytes
              + ": "
              + shown(key));
    }
    if (key.startsWith("/") || key.endsWith("/")) {
      throw new IllegalArgumentException(
          "lock key must not start or end with '/', got " + shown(key));
    }
    int empty = key.indexOf("//");
    if (empty >= 0) {
      throw new IllegalArgumentException(
          "lock key must not have an empty segment ('//' at index " + empty + "): " + shown(key));
    }
    return key;
  }

  /**
   * Checks a purpose: at most {@value #MAX_PURPOSE_CHARS} characters of valid UTF-16.
   *
   * @throws IllegalArgumentException naming the rule it breaks
   */
  static String checkPurpose(String purpose) {
    if (purpose == null) {
      return "";
    }
    if (purpose.length() > MAX_PURPOSE_CHARS) {
      throw new IllegalArgumentException(
          "lock purpose must be at most "
              + MAX_PURPOSE_CHARS
              + " characters, got "
              + purpose.length());
    }
    for (int i = 0; i < purpose.length(); i++) {
      char c = purpose.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < purpose.length()
          && Character.isLowSurrogate(purpose.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(
            "lock purpose is not valid UTF-16 (lone surrogate at index " + i + ")");
      }
    }
    return purpose;
  }

  /** Returns whether {@code key} is {@code ancestor} or lies below it. */
  static boolean within(String key, String ancestor) {
    return key.equals(ancestor)
        || (key.length() > ancestor.length()
            && key.startsWith(ancestor)
            && key.charAt(ancestor.length()) == '/');
  }

  /**
   * Returns whether two holds overlap: the same key, or one is a subtree lock that covers the
   * other's key.
   */
  static boolean overlap(String a, boolean aSubtree, String b, boolean bSubtree) {
    return a.equals(b) || (aSubtree && within(b, a)) || (bSubtree && within(a, b));
  }

  /** Encodes a key for a node name. */
  static String encode(String key) {
    StringBuilder out = null;
    byte[] utf8 = null;
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c > 0x20 && c < 0x7F && c != '/' && c != '%') {
        if (out != null) {
          out.append(c);
        }
        continue;
      }
      if (out == null) {
        out = new StringBuilder(key.length() + 16).append(key, 0, i);
        utf8 = key.getBytes(StandardCharsets.UTF_8);
      }
      // Re-encode from here on byte by byte: find the byte offset of char i.
      int offset = key.substring(0, i).getBytes(StandardCharsets.UTF_8).length;
      for (int j = offset; j < utf8.length; j++) {
        int b = utf8[j] & 0xFF;
        if (b > 0x20 && b < 0x7F && b != '/' && b != '%') {
          out.append((char) b);
        } else {
          out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xF]);
        }
      }
      return out.toString();
    }
    return key;
  }

  /**
   * Decodes a key from a node name.
   *
   * @throws IllegalArgumentException when the text is not a valid encoding
   */
  static String decode(String encoded) {
    if (encoded.indexOf('%') < 0) {
      return encoded;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(encoded.length());
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      if (c == '%') {
        if (i + 2 >= encoded.length()) {
          throw new IllegalArgumentException("truncated escape in encoded key " + encoded);
        }
        int hi = Character.digit(encoded.charAt(i + 1), 16);
        int lo = Character.digit(encoded.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException("bad escape in encoded key " + encoded);
        }
        bytes.write(hi << 4 | lo);
        i += 2;
      } else {
        bytes.write(c);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** A key as shown in an error: quoted, and cut at 64 characters. */
  static String shown(String key) {
    String s = key.length() > 64 ? key.substring(0, 64) + "..." : key;
    StringBuilder b = new StringBuilder("'");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c) || Character.isSurrogate(c)) {
        b.append(String.format("\\u%04X", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('\'').toString();
  }
}
