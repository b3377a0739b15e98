package dev.moments.indexer.index;

/**
 * What the index holds for one stream.
 *
 * @param streamId the stream id
 * @param firstMs the earliest moment start (epoch ms)
 * @param lastMs the latest moment end (epoch ms)
 * @param moments the number of live moments of the stream
 */
public record StreamStats(String streamId, long firstMs, long lastMs, long moments) {}
