package dev.moments.indexer.stream;

import dev.moments.topics.MomentRecord;

/** What the windowing processor forwards: a moment, or a dead-lettered input value. */
sealed interface IndexerOutput {
  /** A predicted moment for {@code moments.moments}. */
  record Moment(MomentRecord record) implements IndexerOutput {}

  /** A rejected feature record's original value; the reason is in the record's headers. */
  record Dead(byte[] value) implements IndexerOutput {}
}
