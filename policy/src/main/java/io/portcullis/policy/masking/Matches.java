package io.portcullis.policy.masking;

import java.util.Arrays;

/** Matches found in one text, in order, none overlapping: byte ranges and the rule of each. */
final class Matches {

  private int[] entries = new int[3 * 4];
  private int size;

  /** Appends a match after the others; creates the list if {@code matches} is null. */
  static Matches append(Matches matches, int start, int end, int rule) {
    Matches list = matches == null ? new Matches() : matches;
    if (3 * list.size == list.entries.length) {
      list.entries = Arrays.copyOf(list.entries, 2 * list.entries.length);
    }
    list.entries[3 * list.size] = start;
    list.entries[3 * list.size + 1] = end;
    list.entries[3 * list.size + 2] = rule;
    list.size++;
    return list;
  }

  int size() {
    return size;
  }

  int start(int index) {
    return entries[3 * index];
  }

  int end(int index) {
    return entries[3 * index + 1];
  }

  int rule(int index) {
    return entries[3 * index + 2];
  }
}
