package dev.moments.indexer.alerts;

import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Matches each moment of {@code <prefix>.moments} against every rule (the global rules store)
 * that watches its stream and forwards an {@link AlertRecord} for each new alert.
 *
 * <ul>
 *   <li>score = cosine of the rule's text embedding and the moment's embedding (both
 *       L2-normalised: their dot product). A rule whose embedding has another dimension than the
 *       moment's is skipped (counted, and logged once per rule and dimension pair): its encoder is
 *       not the moments' space.
 *   <li>a moment matches when score &gt;= the rule's minScore; a match fires unless {@link
 *       AlertSuppression} suppresses it (overlap with the last alert of the rule on the stream,
 *       the cooldown, or older than that alert). The last alert per (rule, stream) is kept in the
 *       persistent {@link AlertsTopology#FIRED_STORE}, written in the same transaction as the
 *       alert (exactly-once v2).
 *   <li>a retraction (null value with the {@link Topics#HEADER_RETRACT_WINDOW} header) withdraws a
 *       provisional window's moments. An alert already written from that window stands: it was
 *       true of the frames seen, and it may already have been delivered. The fired state stays,
 *       so the window re-emitted once the stream goes on (the same event, an overlapping span)
 *       does not fire again. Retractions are counted and otherwise ignored.
 *   <li>records that are not moments are counted, logged and skipped (never a crash).
 * </ul>
 *
 * <p>Cost: one dot product per (rule watching the stream, moment), i.e. rules x moments x dim
 * multiply-adds: fine for hundreds of rules (500 rules x 1024 dims = 0.5 M multiply-adds per
 * moment, well under a millisecond), not for millions (that would need an ANN index of the
 * rules).
 */
final class AlertMatcher implements Processor<byte[], byte[], String, AlertRecord> {
  private static final Logger log = LoggerFactory.getLogger(AlertMatcher.class);

  private final AlertsStats stats;
  private final LongSupplier clock;
  private ProcessorContext<String, AlertRecord> context;
  private KeyValueStore<String, byte[]> rules;
  private KeyValueStore<String, byte[]> fired;
  /** Decoded rules by id with the bytes they were decoded from (the store holds bytes). */
  private final Map<String, Cached> cache = new HashMap<>();
  private final Set<String> warnedDims = new HashSet<>();

  private record Cached(byte[] raw, AlertRule rule) {}

  AlertMatcher(AlertsStats stats, LongSupplier clock) {
    this.stats = Objects.requireNonNull(stats, "stats");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public void init(ProcessorContext<String, AlertRecord> context) {
    this.context = context;
    this.rules = context.getStateStore(AlertsTopology.RULES_STORE);
    this.fired = context.getStateStore(AlertsTopology.FIRED_STORE);
  }

  @Override
  public void process(Record<byte[], byte[]> in) {
    if (in.value() == null) {
      Header h = in.headers().lastHeader(Topics.HEADER_RETRACT_WINDOW);
      if (h != null) {
        stats.retractions.incrementAndGet();
        log.debug("retraction of window {}: its alerts stand",
            h.value() == null ? "?" : new String(h.value(), StandardCharsets.UTF_8));
      }
      return;
    }
    MomentRecord m;
    try {
      m = MomentRecord.fromBytes(in.value());
    } catch (IllegalArgumentException e) {
      long n = stats.unreadable.incrementAndGet();
      log.warn("skipping a record of the moments topic that is not a moment ({} so far): {}", n,
          e.getMessage());
      return;
    }
    stats.moments.incrementAndGet();
    for (AlertRule rule : currentRules()) {
      if (!rule.watches(m.streamId())) {
        continue;
      }
      if (rule.embedding().length != m.embedding().length) {
        stats.dimMismatches.incrementAndGet();
        if (warnedDims.add(rule.id() + "/" + m.embedding().length)) {
          log.warn("rule {} ('{}') has a {}-dim embedding (encoder {}) but moments of stream {} are "
                  + "{}-dim (model {}): skipped for them", rule.id(), rule.q(), rule.embedding().length,
              rule.encoder(), m.streamId(), m.embedding().length, m.modelId());
        }
        continue;
      }
      float score = dot(rule.embedding(), m.embedding());
      if (!(score >= rule.minScore())) {
        continue;
      }
      stats.matches.incrementAndGet();
      String key = AlertSuppression.key(rule.id(), m.streamId());
      byte[] lastBytes = fired.get(key);
      AlertSuppression last = lastBytes == null ? null : AlertSuppression.fromBytes(lastBytes);
      if (AlertSuppression.suppresses(last, m.startMs(), rule.cooldownMs())) {
        stats.suppressed.incrementAndGet();
        continue;
      }
      fired.put(key, new AlertSuppression(m.momentId(), m.startMs(), m.endMs()).toBytes());
      AlertRecord alert = new AlertRecord(AlertRecord.idFor(rule.id(), m.momentId()), rule.id(),
          rule.owner(), rule.q(), m.streamId(), m.momentId(), m.windowId(), m.startMs(), m.endMs(),
          score, clock.getAsLong());
      context.forward(new Record<>(m.streamId(), alert, in.timestamp()));
      stats.fired.incrementAndGet();
      log.info("alert {} on {}: '{}' score {} ({}..{})", alert.alertId(), m.streamId(), rule.q(),
          score, m.startMs(), m.endMs());
    }
  }

  /** The rules of the global store, decoded once per version of their bytes, in id order. */
  private List<AlertRule> currentRules() {
    List<AlertRule> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    try (KeyValueIterator<String, byte[]> it = rules.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        seen.add(kv.key);
        Cached c = cache.get(kv.key);
        if (c == null || !Arrays.equals(c.raw(), kv.value)) {
          // the global store only holds rules that decoded (AlertsTopology.RuleLoader)
          c = new Cached(kv.value, AlertRule.fromBytes(kv.value));
          cache.put(kv.key, c);
        }
        out.add(c.rule());
      }
    }
    cache.keySet().retainAll(seen);
    return out;
  }

  static float dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return (float) s;
  }
}
