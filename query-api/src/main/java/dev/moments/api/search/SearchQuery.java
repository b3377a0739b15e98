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
    text = text == null ? "" : trim(text);
    if (text.isEmpty()) {
      throw new IllegalArgumentException("q must not be empty");
    }
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

  /**
   * The text without leading and trailing invisible characters: whitespace, Unicode spaces (NBSP
   * U+00A0 included, which {@link String#strip()} keeps) and format characters such as the
   * zero-width space U+200B and the byte-order mark U+FEFF. A question made only of these is empty.
   */
  public static String trim(String text) {
    int start = 0;
    int end = text.length();
    while (start < end && invisible(text.codePointAt(start))) {
      start += Character.charCount(text.codePointAt(start));
    }
    while (end > start && invisible(text.codePointBefore(end))) {
      end -= Character.charCount(text.codePointBefore(end));
    }
    return text.substring(start, end);
  }

  private static boolean invisible(int cp) {
    return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.getType(cp) == Character.FORMAT
        || Character.isISOControl(cp);
  }
}
