package io.ringwork.simulator.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Partition sets written as ranges, {@code "0-63,128-191,200"}: an agent's {@code assigned} line at
 * P = 4,096 lists a few runs instead of thousands of numbers. Items are separated by commas; an
 * item is {@code N} or {@code N-M} (inclusive, ascending). Tooz mode's pseudo-partition {@code -1}
 * is the item {@code -1}.
 */
public final class PartitionRanges {

  private PartitionRanges() {}

  /** Returns the ranges of a set of partitions, in ascending order; "" when empty. */
  public static String format(Collection<Integer> partitions) {
    int[] sorted = partitions.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (i < sorted.length) {
      int j = i;
      while (j + 1 < sorted.length && sorted[j + 1] == sorted[j] + 1) {
        j++;
      }
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(sorted[i]);
      if (j > i) {
        sb.append('-').append(sorted[j]);
      }
      i = j + 1;
    }
    return sb.toString();
  }

  /**
   * Parses ranges back into partitions, ascending.
   *
   * @throws IllegalArgumentException naming the item that is not {@code N} or {@code N-M}
   */
  public static List<Integer> parse(String ranges) {
    List<Integer> out = new ArrayList<>();
    if (ranges.isEmpty()) {
      return out;
    }
    for (String item : ranges.split(",", -1)) {
      int dash = item.indexOf('-', 1); // past a leading minus: "-1" is one item
      try {
        if (dash < 0) {
          out.add(Integer.parseInt(item));
        } else {
          int from = Integer.parseInt(item.substring(0, dash));
          int to = Integer.parseInt(item.substring(dash + 1));
          if (to < from) {
            throw new IllegalArgumentException("range '" + item + "' ends before it starts");
          }
          for (int p = from; p <= to; p++) {
            out.add(p);
          }
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + item + "' in '" + ranges + "' is not N or N-M", e);
      }
    }
    int[] check = out.stream().mapToInt(Integer::intValue).toArray();
    if (!Arrays.equals(check, Arrays.stream(check).sorted().distinct().toArray())) {
      throw new IllegalArgumentException("'" + ranges + "' is not ascending");
    }
    return out;
  }
}
