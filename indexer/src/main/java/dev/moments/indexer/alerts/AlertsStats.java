package dev.moments.indexer.alerts;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the alert matcher (process-local; an aborted transaction may have counted twice). */
public final class AlertsStats {
  /** Moments matched against the rules. */
  public final AtomicLong moments = new AtomicLong();
  /** (rule, moment) pairs scored at or above the rule's minScore. */
  public final AtomicLong matches = new AtomicLong();
  /** Alerts written. */
  public final AtomicLong fired = new AtomicLong();
  /** Matches not written: the same event (overlap), the cooldown, or older than the last alert. */
  public final AtomicLong suppressed = new AtomicLong();
  /** (rule, moment) pairs skipped because the embedding dimensions differ. */
  public final AtomicLong dimMismatches = new AtomicLong();
  /** Records of the moments topic that could not be read (skipped). */
  public final AtomicLong unreadable = new AtomicLong();
  /** Retractions seen (their window's alerts stand: see {@link AlertMatcher}). */
  public final AtomicLong retractions = new AtomicLong();
  /** Records of the rules topic that are not rules (skipped). */
  public final AtomicLong badRules = new AtomicLong();
}
