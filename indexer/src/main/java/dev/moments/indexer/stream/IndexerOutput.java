package dev.moments.indexer.stream;

import dev.moments.topics.MomentRecord;

/**
 * What the windowing processor forwards: a moment, the retraction of a provisional window, or a
 * dead-lettered input value.
 */
sealed interface IndexerOutput {
  /** A predicted moment for {@code moments.moments}. */
  record Moment(MomentRecord record) implements IndexerOutput {}

  /**
   * Withdraws every moment of a window: a null value on {@code moments.moments} with the window id
   * in the {@code retract-window} header (the forwarded record carries that header).
   */
  record Retraction(String windowId) implements IndexerOutput {}

  /** A rejected feature record's capped value; the reason is in the record's headers. */
  record Dead(byte[] value) implements IndexerOutput {}
}
