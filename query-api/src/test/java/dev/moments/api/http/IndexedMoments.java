package dev.moments.api.http;

import dev.moments.api.LuceneMomentStore;
import dev.moments.indexer.index.MomentIndex;
import dev.moments.topics.MomentRecord;
import java.nio.file.Path;
import java.util.Map;

/** A real Lucene moment index on disk, filled by hand for HTTP-layer tests. */
final class IndexedMoments implements AutoCloseable {
  private final MomentIndex index;
  private int slot;

  IndexedMoments(Path dir) {
    this.index = MomentIndex.open(dir);
  }

  /** Adds a moment with id {@code stream/startMs/slot} (the start standing in for the window start). */
  IndexedMoments add(String streamId, long startMs, long endMs, float[] embedding) {
    index.upsert(new MomentRecord(MomentRecord.idFor(streamId, startMs, slot++), streamId, startMs, endMs, embedding,
        0.5f, MomentRecord.windowIdFor(streamId, startMs), "test-model"));
    return this;
  }

  /** Commits and makes everything searchable; returns the API's view of the index. */
  LuceneMomentStore store() {
    index.commit(Map.of());
    index.refresh();
    return new LuceneMomentStore(index);
  }

  @Override
  public void close() {
    index.close();
  }
}
