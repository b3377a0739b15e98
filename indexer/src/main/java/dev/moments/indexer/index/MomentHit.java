package dev.moments.indexer.index;

/**
 * One search result: a stored moment and how well it matches the query.
 *
 * @param momentId the deterministic moment id (stream/windowStart/slot)
 * @param streamId the stream the moment belongs to
 * @param startMs start of the moment (epoch ms)
 * @param endMs end of the moment (epoch ms)
 * @param similarity cosine of the query with the moment's stored int8 vector, in [-1, 1]
 *     ({@link dev.moments.model.rank.MomentVectors#similarity})
 * @param momentScore the model's confidence in the moment's time span
 * @param modelId the model that predicted the moment
 */
public record MomentHit(
    String momentId,
    String streamId,
    long startMs,
    long endMs,
    float similarity,
    float momentScore,
    String modelId) {}
