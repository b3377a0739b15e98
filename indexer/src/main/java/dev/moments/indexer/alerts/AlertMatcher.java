package dev.moments.indexer.alerts;

import dev.moments.model.rank.FrameEvidence;
import dev.moments.model.rank.Rankers;
import dev.moments.model.rank.SpanRanker;
import dev.moments.topics.AlertRecord;
import dev.moments.topics.AlertRule;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ranks each stream's recent past against every rule that watches it, as the served search ranks
 * a stretch, and forwards an {@link AlertRecord} for each new event.
 *
 * <p><b>Input.</b> Both {@code <prefix>.features} and {@code <prefix>.moments} (key stream id;
 * co-partitioned: {@code TopicAdmin} makes every topic with one partition count). Frames go into
 * the per-second frame evidence ({@link AlertEvidence}, the index's evidence); moments are kept
 * while they start within the horizon; a stream that got moments is marked due.
 *
 * <p><b>Evaluation</b> of a due stream: when a moment of another window arrives (the previous
 * window is whole), and every {@link AlertsConfig#evaluateEveryMs()} of wall clock for the streams
 * still due (the newest window: its moments arrive together, so one evaluation sees them all;
 * a window ranked early is ranked again with the rest of its moments when they come): the stretch is the
 * last {@link AlertsConfig#horizonSec()} finished seconds of the stream's evidence before the
 * window's end (with no evidence yet: the horizon before the newest kept moment's end); for each rule, the ranker ({@link
 * AlertsConfig#ranker()}, default {@link Rankers#fused()}: the served search's default) gets the
 * rule's cosine with each second and the moments that start in the stretch, each with its cosine;
 * of its best {@link AlertsConfig#topK()} spans, those scoring at least the rule's minScore are
 * matches, taken in time order. A match fires unless {@link AlertSuppression} suppresses it
 * (overlap with the rule's last alert on the stream, the cooldown, or older than it). A span that
 * is exactly a moment is named by the moment's id, any other as the served search names it:
 * {@code <stream>/span/<startMs>-<endMs>}.
 *
 * <p><b>State</b> (persistent, changelogged; written in the same exactly-once transaction as the
 * alerts): the evidence, the kept moments, the due streams and the last alert per (rule, stream).
 * A crash between a moment and its evaluation loses nothing: the due mark was committed with the
 * moment's offset.
 *
 * <p><b>Retractions</b> (a null moment with {@link Topics#HEADER_RETRACT_WINDOW}) delete the
 * window's kept moments. An alert already written from that window stands: it was true of the
 * frames seen, and it may already have been delivered; the fired state stays, so the re-emitted
 * window's view of the same event does not fire again. Records that are neither frames nor moments
 * are counted, logged and skipped (never a crash).
 *
 * <p>Cost per evaluation: rules x horizon x dim multiply-adds for the frame scores plus the
 * ranker's work (for the fused ranker, candidates x moments in the horizon): for 100 rules, 60 s
 * and dim 1024 about 6 M multiply-adds per due stream, once per window.
 */
final class AlertMatcher implements Processor<byte[], byte[], String, AlertRecord> {
  private static final Logger log = LoggerFactory.getLogger(AlertMatcher.class);
  private static final StringSerializer KEYS = new StringSerializer();
  /**
   * Seconds of evidence kept beyond the horizon: frames may be read ahead of the moments of the
   * windows they belong to (the inputs are merged by timestamp only as far as both are buffered).
   */
  static final int EVIDENCE_SLACK_SEC = 300;

  private final Topics topics;
  private final AlertsConfig config;
  private final SpanRanker ranker;
  private final AlertsStats stats;
  private final LongSupplier clock;
  private ProcessorContext<String, AlertRecord> context;
  private KeyValueStore<String, byte[]> rules;
  private KeyValueStore<String, byte[]> fired;
  private KeyValueStore<String, byte[]> kept;
  private KeyValueStore<String, byte[]> due;
  private AlertEvidence evidence;
  /** Decoded rules by id with the bytes they were decoded from (the store holds bytes). */
  private final Map<String, Cached> cache = new HashMap<>();
  private final Set<String> warned = new HashSet<>();

  private record Cached(byte[] raw, AlertRule rule) {}

  AlertMatcher(Topics topics, AlertsConfig config, AlertsStats stats, LongSupplier clock) {
    this.topics = Objects.requireNonNull(topics, "topics");
    this.config = Objects.requireNonNull(config, "config");
    this.ranker = Rankers.named(config.ranker());
    this.stats = Objects.requireNonNull(stats, "stats");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public void init(ProcessorContext<String, AlertRecord> context) {
    this.context = context;
    this.rules = context.getStateStore(AlertsTopology.RULES_STORE);
    this.fired = context.getStateStore(AlertsTopology.FIRED_STORE);
    this.kept = context.getStateStore(AlertsTopology.MOMENTS_STORE);
    this.due = context.getStateStore(AlertsTopology.DUE_STORE);
    // seconds kept: the horizon plus the flank the ranker looks at left of the stretch's first span
    this.evidence = new AlertEvidence(context.getStateStore(AlertsTopology.EVIDENCE_STORE),
        config.horizonSec() + EVIDENCE_SLACK_SEC);
    context.schedule(Duration.ofMillis(config.evaluateEveryMs()), PunctuationType.WALL_CLOCK_TIME, t -> evaluateDue());
  }

  @Override
  public void process(Record<byte[], byte[]> in) {
    String topic = context.recordMetadata().map(RecordMetadata::topic).orElse("");
    if (topic.equals(topics.features().name())) {
      frame(in);
    } else {
      moment(in);
    }
  }

  private void frame(Record<byte[], byte[]> in) {
    if (in.key() == null) {
      stats.unreadable.incrementAndGet();
      return;
    }
    String stream = new String(in.key(), StandardCharsets.UTF_8);
    if (Topics.isEndOfStream(in.headers())) {
      evidence.endOfStream(stream);
      return;
    }
    if (in.value() == null) {
      return;
    }
    FeatureRecord f;
    try {
      f = FeatureRecord.fromBytes(in.value());
    } catch (IllegalArgumentException e) {
      long n = stats.unreadable.incrementAndGet();
      log.warn("skipping a record of the features topic that is not a feature ({} so far): {}", n, e.getMessage());
      return;
    }
    stats.frames.incrementAndGet();
    switch (evidence.accept(stream, in.timestamp(), f.vector())) {
      case LATE -> stats.lateFrames.incrementAndGet();
      case WRONG_DIMENSION -> {
        stats.dimMismatches.incrementAndGet();
        if (warned.add("frame/" + stream + "/" + f.vector().length)) {
          log.warn("stream {}: a {}-dim frame feature after {}-dim ones: skipped", stream, f.vector().length,
              evidence.state(stream).dim());
        }
      }
      case ACCEPTED -> { }
    }
  }

  private void moment(Record<byte[], byte[]> in) {
    if (in.value() == null) {
      Header h = in.headers().lastHeader(Topics.HEADER_RETRACT_WINDOW);
      if (h != null && h.value() != null && in.key() != null) {
        stats.retractions.incrementAndGet();
        String window = new String(h.value(), StandardCharsets.UTF_8);
        String stream = new String(in.key(), StandardCharsets.UTF_8);
        List<String> gone = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = kept.prefixScan(stream + '\u0000', KEYS)) {
          while (it.hasNext()) {
            KeyValue<String, byte[]> kv = it.next();
            if (MomentRecord.fromBytes(kv.value).windowId().equals(window)) {
              gone.add(kv.key);
            }
          }
        }
        gone.forEach(kept::delete);
        log.debug("retraction of window {}: {} kept moments dropped, its alerts stand", window, gone.size());
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
    byte[] pendingBytes = due.get(m.streamId());
    Due pending = pendingBytes == null ? null : Due.fromBytes(pendingBytes);
    long end = Math.max(in.timestamp(), m.endMs());
    if (pending != null && !m.windowId().equals(pending.windowId())) {
      // a new window: the previous one is whole, rank it now (a matcher catching up reads many
      // windows between two punctuations, and each must be ranked with its own horizon)
      evaluate(m.streamId(), pending, currentRules());
    } else if (pending != null) {
      end = Math.max(end, pending.endMs());
    }
    kept.put(m.streamId() + '\u0000' + m.momentId(), in.value());
    due.put(m.streamId(), new Due(m.windowId(), end).toBytes());
  }

  /**
   * A stream's window not yet ranked: its id and end (capture epoch ms: the moment records'
   * timestamp, which the indexer sets to the window's end, or the latest moment end if later).
   */
  record Due(String windowId, long endMs) {
    byte[] toBytes() {
      byte[] id = windowId.getBytes(StandardCharsets.UTF_8);
      return java.nio.ByteBuffer.allocate(8 + id.length).putLong(endMs).put(id).array();
    }

    static Due fromBytes(byte[] b) {
      return new Due(new String(b, 8, b.length - 8, StandardCharsets.UTF_8), java.nio.ByteBuffer.wrap(b).getLong());
    }
  }

  /** Evaluates every due stream (the punctuation). */
  void evaluateDue() {
    List<KeyValue<String, byte[]>> streams = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = due.all()) {
      it.forEachRemaining(streams::add);
    }
    if (streams.isEmpty()) {
      return;
    }
    List<AlertRule> current = currentRules();
    for (KeyValue<String, byte[]> s : streams) {
      evaluate(s.key, Due.fromBytes(s.value), current);
      due.delete(s.key);
    }
  }

  private void evaluate(String stream, Due window, List<AlertRule> current) {
    stats.evaluations.incrementAndGet();
    String windowId = window.windowId();
    AlertEvidence.Stretch ev = evidence.before(stream, window.endMs(), config.horizonSec());
    List<MomentRecord> moments = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = kept.prefixScan(stream + '\u0000', KEYS)) {
      it.forEachRemaining(kv -> moments.add(MomentRecord.fromBytes(kv.value)));
    }
    if (moments.isEmpty() && ev == null) {
      return;
    }
    long startMs;
    float[][] seconds;
    if (ev != null) {
      startMs = ev.startMs();
      seconds = ev.seconds();
    } else {
      long newest = moments.stream().mapToLong(MomentRecord::endMs).max().orElseThrow();
      startMs = Math.max(newest - config.horizonSec() * 1000L,
          moments.stream().mapToLong(MomentRecord::startMs).min().orElseThrow());
      seconds = new float[0][];
    }
    // moments that start before the stretch are no longer ranked: drop them from the state
    List<MomentRecord> in = new ArrayList<>();
    for (MomentRecord m : moments) {
      if (m.startMs() < startMs) {
        kept.delete(stream + '\u0000' + m.momentId());
      } else {
        in.add(m);
      }
    }
    Map<Long, Map<Long, String>> idOf = new HashMap<>();
    for (MomentRecord m : in) {
      idOf.computeIfAbsent(m.startMs(), x -> new HashMap<>()).merge(m.endMs(), m.momentId(),
          (a, b) -> a.compareTo(b) <= 0 ? a : b);
    }
    for (AlertRule rule : current) {
      if (!rule.watches(stream)) {
        continue;
      }
      int dim = rule.embedding().length;
      boolean framesFit = seconds.length == 0 || seconds[0].length == dim;
      List<SpanRanker.Moment> ms = new ArrayList<>(in.size());
      boolean momentsFit = true;
      for (MomentRecord m : in) {
        if (m.embedding().length != dim) {
          momentsFit = false;
          continue;
        }
        ms.add(new SpanRanker.Moment((m.startMs() - startMs) / 1000.0, (m.endMs() - startMs) / 1000.0,
            dot(rule.embedding(), m.embedding())));
      }
      if (!framesFit || !momentsFit) {
        stats.dimMismatches.incrementAndGet();
        if (warned.add(rule.id() + "/" + stream)) {
          log.warn("rule {} ('{}') has a {}-dim embedding (encoder {}) but stream {} has {}-dim {}: "
                  + "those are left out of its ranking", rule.id(), rule.q(), dim, rule.encoder(), stream,
              framesFit ? in.getFirst().embedding().length : seconds[0].length, framesFit ? "moments" : "frames");
        }
      }
      double[] frameScores = framesFit ? FrameEvidence.scores(rule.embedding(), seconds) : new double[0];
      if (frameScores.length == 0 && ms.isEmpty()) {
        continue;
      }
      List<SpanRanker.Span> matches = new ArrayList<>();
      for (SpanRanker.Span s : ranker.rank(frameScores, ms, config.topK())) {
        if (s.score() >= rule.minScore()) {
          matches.add(s);
        }
      }
      matches.sort(Comparator.comparingDouble(SpanRanker.Span::startSec));
      for (SpanRanker.Span s : matches) {
        fire(rule, stream, windowId, startMs + Math.round(s.startSec() * 1000),
            startMs + Math.round(s.endSec() * 1000), s.score(), idOf);
      }
    }
  }

  private void fire(AlertRule rule, String stream, String windowId, long from, long to, double score,
      Map<Long, Map<Long, String>> idOf) {
    stats.matches.incrementAndGet();
    String key = AlertSuppression.key(rule.id(), stream);
    byte[] lastBytes = fired.get(key);
    AlertSuppression last = lastBytes == null ? null : AlertSuppression.fromBytes(lastBytes);
    if (AlertSuppression.suppresses(last, from, rule.cooldownMs())) {
      stats.suppressed.incrementAndGet();
      return;
    }
    String momentId = idOf.getOrDefault(from, Map.of()).get(to);
    if (momentId == null) {
      momentId = stream + "/span/" + from + "-" + to;
    }
    fired.put(key, new AlertSuppression(momentId, from, to).toBytes());
    AlertRecord alert = new AlertRecord(AlertRecord.idFor(rule.id(), momentId), rule.id(), rule.owner(),
        rule.q(), stream, momentId, windowId, from, to, (float) score, clock.getAsLong());
    context.forward(new Record<>(stream, alert, to));
    stats.fired.incrementAndGet();
    log.info("alert {} on {}: '{}' score {} ({}..{})", alert.alertId(), stream, rule.q(), score, from, to);
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
