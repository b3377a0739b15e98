package dev.moments.trainer;

/**
 * One narration of a video as the trainer sees it: its timestamp (seconds from the video start)
 * and its cleaned text.
 */
public record TimedText(double timestampSec, String text) {}
