package dev.moments.ingest;

/**
 * A video source that cannot be opened or read: a missing, empty, non-video or audio-only file,
 * or a live URL that does not answer. The message is one line that names the source and says
 * what is wrong.
 */
public final class VideoSourceException extends IllegalArgumentException {
  public VideoSourceException(String message) {
    super(message);
  }

  public VideoSourceException(String message, Throwable cause) {
    super(message, cause);
  }
}
