package dev.moments.trainer;

/**
 * One narration of a video as the trainer sees it: its timestamp (seconds from the video start),
 * its cleaned text, and the narration sequence (annotation pass) it belongs to; training intervals
 * are drawn between neighbours of the same sequence.
 */
public record TimedText(double timestampSec, String text, int sequence) {
  /** A narration of the video's only sequence. */
  public TimedText(double timestampSec, String text) {
    this(timestampSec, text, 0);
  }
}
