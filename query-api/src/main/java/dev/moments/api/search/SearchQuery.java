package dev.moments.api.search;

import java.util.Set;

/**
 * A validated text search.
 *
 * @param text the question, 1..{@value #MAX_TEXT} characters after trimming
 * @param streams only these streams, or null for all the caller may see
 * @param fromMs only moments ending at or after this time (epoch ms), or null
 * @param toMs only moments starting at or before this time (epoch ms), or null
 * @param k how many results, 1..{@value #MAX_K}
 */
public record SearchQuery(String text, Set<String> streams, Long fromMs, Long toMs, int k) {
  public static final int MAX_TEXT = 1000;
  public static final int MAX_K = 100;
  public static final int DEFAULT_K = 10;

  public SearchQuery {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("q must not be empty");
    }
    text = text.strip();
    if (text.length() > MAX_TEXT) {
      throw new IllegalArgumentException("q must be at most " + MAX_TEXT + " characters, got " + text.length());
    }
    if (k < 1 || k > MAX_K) {
      throw new IllegalArgumentException("k must be between 1 and " + MAX_K + ", got " + k);
    }
    if (fromMs != null && toMs != null && fromMs > toMs) {
      throw new IllegalArgumentException("from must not be after to");
    }
    if (streams != null) {
      streams = Set.copyOf(streams);
    }
  }
}
