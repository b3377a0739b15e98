package dev.moments.ingest;

/**
 * How a {@link VideoSource} samples and shapes frames.
 *
 * @param fps sampled frames per second of presentation time (> 0)
 * @param maxSide longest side of an output frame in pixels; 0 keeps the decoded size
 * @param startTimeMs capture time of PTS 0 for files (epoch ms), or {@code null} for the file's
 *     modification time; ignored for live sources, whose frames carry the wall clock at capture
 * @param speed file pacing: 0 decodes as fast as possible, 1 paces frames in real time, 2 twice
 *     as fast, ...; ignored for live sources
 * @param readTimeoutMs how long a live source may stay silent before it counts as disconnected
 */
public record SourceOptions(
    double fps, int maxSide, Long startTimeMs, double speed, long readTimeoutMs) {

  public static final double DEFAULT_FPS = 6.0;

  public SourceOptions {
    if (!(fps > 0) || fps > 1000) {
      throw new IllegalArgumentException("fps must be in (0, 1000], got " + fps);
    }
    if (maxSide < 0 || (maxSide > 0 && maxSide < 2)) {
      throw new IllegalArgumentException("max-side must be 0 (no limit) or >= 2, got " + maxSide);
    }
    if (!(speed >= 0) || Double.isInfinite(speed)) {
      throw new IllegalArgumentException("speed must be >= 0 (0 = as fast as possible), got " + speed);
    }
    if (readTimeoutMs < 100) {
      throw new IllegalArgumentException("read timeout must be >= 100 ms, got " + readTimeoutMs);
    }
  }

  /** 6 fps, decoded size, file mtime as start, as fast as possible, 10 s live read timeout. */
  public static SourceOptions defaults() {
    return new SourceOptions(DEFAULT_FPS, 0, null, 0, 10_000);
  }

  public SourceOptions withFps(double value) {
    return new SourceOptions(value, maxSide, startTimeMs, speed, readTimeoutMs);
  }

  public SourceOptions withMaxSide(int value) {
    return new SourceOptions(fps, value, startTimeMs, speed, readTimeoutMs);
  }

  public SourceOptions withStartTimeMs(Long value) {
    return new SourceOptions(fps, maxSide, value, speed, readTimeoutMs);
  }

  public SourceOptions withSpeed(double value) {
    return new SourceOptions(fps, maxSide, startTimeMs, value, readTimeoutMs);
  }

  public SourceOptions withReadTimeoutMs(long value) {
    return new SourceOptions(fps, maxSide, startTimeMs, speed, value);
  }
}
