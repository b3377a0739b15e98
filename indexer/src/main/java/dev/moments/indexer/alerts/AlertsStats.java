package dev.moments.indexer.alerts;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the alert matcher (process-local; an aborted transaction may have counted twice). */
public final class AlertsStats {
  /** Moments read (kept for ranking while they start within the horizon). */
  public final AtomicLong moments = new AtomicLong();
  /** Frame features read into the per-second evidence. */
  public final AtomicLong frames = new AtomicLong();
  /** Frames for an already finished second (dropped). */
  public final AtomicLong lateFrames = new AtomicLong();
  /** Evaluations of a stream's recent past (one per stream per batch of new moments). */
  public final AtomicLong evaluations = new AtomicLong();
  /** (rule, span) pairs ranked among the best and scored at or above the rule's minScore. */
  public final AtomicLong matches = new AtomicLong();
  /** Alerts written. */
  public final AtomicLong fired = new AtomicLong();
  /** Matches not written: the same event (overlap), the cooldown, or older than the last alert. */
  public final AtomicLong suppressed = new AtomicLong();
  /** Frames, or (rule, stream) rankings, with embeddings of another dimension (left out). */
  public final AtomicLong dimMismatches = new AtomicLong();
  /** Records of the moments or features topic that could not be read (skipped). */
  public final AtomicLong unreadable = new AtomicLong();
  /** Retractions seen (their window's alerts stand: see {@link AlertMatcher}). */
  public final AtomicLong retractions = new AtomicLong();
  /** Records of the rules topic that are not rules (skipped). */
  public final AtomicLong badRules = new AtomicLong();
}
