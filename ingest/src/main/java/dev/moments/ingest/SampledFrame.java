package dev.moments.ingest;

import java.awt.image.BufferedImage;

/**
 * One frame chosen by the sampler: upright, downscaled, with its media time and capture time.
 *
 * @param image the frame ({@link BufferedImage#TYPE_3BYTE_BGR}), already rotated upright
 * @param ptsMs presentation time in ms from the start of the media (for live sources: of the
 *     current connection's stream)
 * @param captureTimeMs epoch ms at which the frame was captured: start time + PTS for files,
 *     the wall clock when it was decoded for live sources
 */
public record SampledFrame(BufferedImage image, long ptsMs, long captureTimeMs) {}
