package dev.moments.indexer.stream;

import dev.moments.model.PredictedMoment;
import dev.moments.topics.DeadLetter;
import dev.moments.topics.FeatureRecord;
import dev.moments.topics.MomentRecord;
import dev.moments.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.Bytes;
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
 * Per-stream sliding windows over frame features, and model inference when a window completes.
 *
 * <p>Windows of stream s end at hop boundaries aligned to its first feature timestamp t0: {@code
 * end = t0 + k * hop} (k = 1, 2, ...), and cover {@code [end - W, end)}; early windows simply hold
 * the frames since t0. A window's nominal start {@code end - W} is its id ({@link
 * MomentRecord#windowIdFor}). A window is emitted once the stream time (newest accepted feature
 * timestamp) reaches {@code end + lateness}; an empty window (a gap in the stream) is skipped.
 *
 * <p>Which windows exist depends only on the stream's own features and its end-of-stream marks,
 * never on when a service was slow, down or restarted:
 *
 * <ul>
 *   <li>An <b>end-of-stream mark</b> (a record with the {@code end-of-stream} header, carried from
 *       {@code moments.frames} by the featurizer) flushes the stream's frames not yet covered by an
 *       emitted window as its <b>final window</b>, ending one frame after its newest feature. Hop
 *       windows pending within the lateness are not emitted separately when the final window
 *       covers their frames; when it does not (the frames since the last emitted window span
 *       more than W, e.g. hop = W with a lateness), they are emitted first, so that every frame
 *       is in a window (eval's {@code LiveWindows} places the same windows). The stream's frames after a mark begin a new timeline: its hop grid is
 *       anchored at the first of them (t0), as for a new stream; frames older than the final
 *       window's end are still dropped as late.
 *   <li>A stream that receives nothing for {@code idleFlush} of wall-clock time (counted by the
 *       wall-clock punctuator, at most one punctuation interval per call, so that a stalled stream
 *       thread does not make a stream with waiting records look idle) gets the same window as a
 *       <b>provisional window</b>, so that a producer that sends no marks still gets answers. It
 *       moves nothing: the hop grid, the late-drop bound and the stored features stay as they
 *       were. If the stream's features go on (the quiet was an outage or a slow featurizer, not an
 *       end), the provisional window is retracted (a null value with the {@code retract-window}
 *       header on {@code moments.moments}) before anything else of the stream is emitted; if its
 *       end-of-stream mark comes, it becomes the final window as it is. Either way the moments
 *       that stand are those of a run without the quiet.
 * </ul>
 *
 * <p>Predicted times (seconds relative to the window's first frame) become epoch ms through
 * the window's actual feature timestamps: frame index {@code round(sec * fps)} clamped to [0, T],
 * where index T means one frame after the last frame.
 *
 * <p>A feature with timestamp {@code ts} is dropped as too late (counted in {@link
 * StreamMeta#lateDropped()} and the {@code late-dropped} metric) when {@code ts < maxTs -
 * lateness} or {@code ts < lastEmittedEnd}; otherwise it is placed by timestamp (a feature with the
 * same stream and timestamp as a stored one replaces it). A record without a key, with an
 * undecodable value, or whose dimension or encoder id differs from the model's goes to the
 * dead-letter topic with the reason.
 *
 * <p>The feature store holds only what later windows can still need: after each emission the
 * stream's features older than {@code lastEmittedEnd - W} are deleted.
 */
final class WindowingProcessor implements Processor<byte[], byte[], byte[], IndexerOutput> {
  private static final Logger log = LoggerFactory.getLogger(WindowingProcessor.class);
  static final String STAGE = "indexer";

  private final IndexerConfig cfg;
  private final IndexerModel model;
  private final long windowMs;
  private final long hopMs;
  private final long latenessMs;
  private final long frameMs;
  private final long idleMs;
  /**
   * Idle time accumulated per stream since its last feature; in memory, so a restart re-arms
   * idleness. Each punctuation adds at most one punctuation interval, so time the stream thread
   * spent stalled (long inference, GC, a loaded machine) while the stream's next records were
   * already waiting never counts as idleness.
   */
  private final Map<String, Long> idleFor = new HashMap<>();
  private long punctuateEveryMs;
  private long lastPunctuation;
  private ProcessorContext<byte[], IndexerOutput> ctx;
  private KeyValueStore<Bytes, byte[]> features;
  private KeyValueStore<String, byte[]> meta;
  private Sensor lateSensor;
  private Sensor deadSensor;
  private Sensor windowSensor;
  private Sensor retractSensor;

  WindowingProcessor(IndexerConfig cfg, IndexerModel model) {
    this.cfg = cfg;
    this.model = model;
    this.windowMs = cfg.window().toMillis();
    this.hopMs = cfg.hop().toMillis();
    this.latenessMs = cfg.lateness().toMillis();
    this.frameMs = cfg.frameMs();
    this.idleMs = cfg.idleFlush().toMillis();
  }

  @Override
  public void init(ProcessorContext<byte[], IndexerOutput> context) {
    this.ctx = context;
    this.features = context.getStateStore(IndexerTopology.FEATURES_STORE);
    this.meta = context.getStateStore(IndexerTopology.META_STORE);
    String task = context.taskId().toString();
    var metrics = context.metrics();
    var level = Sensor.RecordingLevel.INFO;
    lateSensor = metrics.addRateTotalSensor("moments-indexer", task, "late-dropped", level);
    deadSensor = metrics.addRateTotalSensor("moments-indexer", task, "dead-lettered", level);
    windowSensor = metrics.addRateTotalSensor("moments-indexer", task, "windows-emitted", level);
    retractSensor = metrics.addRateTotalSensor("moments-indexer", task, "windows-retracted", level);
    punctuateEveryMs = Math.clamp(idleMs / 4, 100L, 5_000L);
    lastPunctuation = context.currentSystemTimeMs();
    context.schedule(Duration.ofMillis(punctuateEveryMs), PunctuationType.WALL_CLOCK_TIME,
        this::flushIdle);
  }

  @Override
  public void process(Record<byte[], byte[]> r) {
    boolean mark = Topics.isEndOfStream(r.headers());
    String what = mark ? "end-of-stream mark" : "feature record";
    if (r.key() == null) {
      deadLetter(r, what + " has no key (the stream id)");
      return;
    }
    if (r.key().length == 0) {
      deadLetter(r, what + " has an empty key (the stream id)");
      return;
    }
    String stream = new String(r.key(), StandardCharsets.UTF_8);
    if (mark) {
      endOfStream(stream);
      return;
    }
    FeatureRecord f;
    try {
      f = FeatureRecord.fromBytes(r.value());
    } catch (IllegalArgumentException e) {
      deadLetter(r, "undecodable feature record: " + e.getMessage());
      return;
    }
    if (!f.encoderId().equals(model.encoderId())) {
      deadLetter(r, "feature encoder id '" + f.encoderId() + "' differs from the model's encoder id '"
          + model.encoderId() + "'");
      return;
    }
    if (f.dim() != model.featureDim()) {
      deadLetter(r, "feature dim " + f.dim() + " differs from the model's feature dim "
          + model.featureDim());
      return;
    }
    for (float x : f.vector()) {
      if (!Float.isFinite(x)) {
        deadLetter(r, "feature vector has a non-finite value");
        return;
      }
    }
    long ts = r.timestamp();
    byte[] stored = meta.get(stream);
    StreamMeta m = stored == null ? StreamMeta.first(ts) : StreamMeta.fromBytes(stored);
    if (ts < m.maxTs() - latenessMs || ts < m.lastEmittedEnd()) {
      m = m.dropped();
      meta.put(stream, m.toBytes());
      lateSensor.record();
      log.debug("dropped late feature of {} at {} (stream time {}, last window end {})",
          stream, ts, m.maxTs(), m.lastEmittedEnd());
      return;
    }
    if (m.hasProvisional()) {
      m = retract(stream, m);
    }
    if (m.ended()) {
      m = m.restartedAt(ts); // the first frame after an end-of-stream mark: a new timeline
    }
    features.put(FeatureKeys.key(stream, ts), FeatureKeys.vectorBytes(f.vector()));
    idleFor.put(stream, 0L);
    m = emitDue(stream, m.accepted(ts));
    meta.put(stream, m.toBytes());
  }

  /**
   * The stream's end-of-stream mark: its frames not yet in an emitted window become its final
   * window (a standing provisional window over the same frames becomes final as it is).
   */
  private void endOfStream(String stream) {
    byte[] stored = meta.get(stream);
    if (stored == null) {
      log.debug("end-of-stream mark of {}, which has no features: nothing to flush", stream);
      return;
    }
    StreamMeta m = StreamMeta.fromBytes(stored);
    idleFor.remove(stream);
    if (m.maxTs() < m.lastEmittedEnd()) {
      return; // every frame is in an emitted window (a repeated mark)
    }
    long end = m.maxTs() + frameMs;
    if (m.hasProvisional() && !coveredFrom(m, end)) {
      // The hop windows still pending within the lateness must come first (see below): the
      // provisional window alone would leave frames unindexed.
      m = retract(stream, m);
    }
    if (m.hasProvisional()) {
      // No feature was accepted since it was flushed (one would have retracted it): the
      // provisional window holds exactly the final window's frames.
      m = m.withoutProvisional(false).emitted(end, false);
    } else {
      m = emitUncovered(stream, m, end);
      if (m.maxTs() >= m.lastEmittedEnd()) {
        boolean emitted = emitWindow(stream, end, m);
        m = m.emitted(end, emitted);
      }
    }
    evict(stream, m.maxTs()); // every frame is in an emitted window; none is needed again
    meta.put(stream, m.toBytes());
    log.debug("end of stream {}: final window ends at {}", stream, end);
  }

  /**
   * Whether a final window ending at {@code end} covers every frame not yet in an emitted window:
   * the frames since the last emitted window (or since t0) are at most W long.
   */
  private boolean coveredFrom(StreamMeta m, long end) {
    return coveredUntil(m) >= end - windowMs;
  }

  /** Where the current timeline's emitted windows end (its first frame before any). */
  private static long coveredUntil(StreamMeta m) {
    return m.lastEmittedEnd() == Long.MIN_VALUE ? m.t0() : Math.max(m.lastEmittedEnd(), m.t0());
  }

  /**
   * At the stream's end: the hop windows still pending within the lateness (no later frame can
   * come for them) are emitted while the final window ending at {@code finalEnd} would not
   * cover every frame since the last emitted one, i.e. when hop + lateness exceeds W. Without
   * them, with the hop equal to the window and a 10 s lateness, up to 10 s of frames before the
   * final window were never indexed.
   */
  private StreamMeta emitUncovered(String stream, StreamMeta m, long finalEnd) {
    long end = nextHopEnd(m);
    boolean any = false;
    while (!coveredFrom(m, finalEnd) && end < finalEnd) {
      boolean emitted = emitWindow(stream, end, m);
      m = m.emitted(end, emitted);
      any = true;
      end += hopMs;
    }
    if (any) {
      evict(stream, m.lastEmittedEnd() - windowMs);
    }
    return m;
  }

  /** The end of the stream's next hop window. */
  private long nextHopEnd(StreamMeta m) {
    return m.lastEmittedEnd() == Long.MIN_VALUE || m.lastEmittedEnd() < m.t0()
        ? m.t0() + hopMs
        : m.t0() + (Math.floorDiv(m.lastEmittedEnd() - m.t0(), hopMs) + 1) * hopMs;
  }

  /** Withdraws the stream's provisional window: its frames went on. */
  private StreamMeta retract(String stream, StreamMeta m) {
    String windowId = MomentRecord.windowIdFor(stream, m.provisionalEnd() - windowMs);
    RecordHeaders h = new RecordHeaders();
    h.add(Topics.HEADER_RETRACT_WINDOW, windowId.getBytes(StandardCharsets.UTF_8));
    ctx.forward(new Record<>(stream.getBytes(StandardCharsets.UTF_8),
        (IndexerOutput) new IndexerOutput.Retraction(windowId), m.provisionalEnd(), h));
    retractSensor.record();
    log.debug("retracted provisional window {}: the stream went on", windowId);
    return m.withoutProvisional(true);
  }

  /** Emits every hop window whose end plus lateness the stream time has reached. */
  private StreamMeta emitDue(String stream, StreamMeta m) {
    long end = nextHopEnd(m);
    boolean any = false;
    while (end <= m.maxTs() - latenessMs) {
      boolean emitted = emitWindow(stream, end, m);
      m = m.emitted(end, emitted);
      any = true;
      if (!emitted) {
        // A gap: jump to the first window that holds the next stored frame.
        Long next = firstTimestampAtOrAfter(stream, end);
        if (next == null) {
          break;
        }
        long jump = m.t0() + (Math.floorDiv(next - m.t0(), hopMs) + 1) * hopMs;
        end = Math.max(end + hopMs, jump);
      } else {
        end += hopMs;
      }
    }
    if (any) {
      evict(stream, m.lastEmittedEnd() - windowMs);
    }
    return m;
  }

  /**
   * Wall-clock punctuation: a stream quiet for {@code idleFlush} gets its uncovered frames as a
   * provisional window (retracted if the stream goes on, final at its end-of-stream mark).
   */
  private void flushIdle(long now) {
    long delta = Math.clamp(now - lastPunctuation, 0L, punctuateEveryMs);
    lastPunctuation = now;
    List<KeyValue<String, byte[]>> all = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = meta.all()) {
      it.forEachRemaining(all::add);
    }
    for (KeyValue<String, byte[]> kv : all) {
      String stream = kv.key;
      StreamMeta m = StreamMeta.fromBytes(kv.value);
      if (m.maxTs() < m.lastEmittedEnd() || m.hasProvisional()) {
        continue; // every frame is in an emitted window, or the provisional one stands
      }
      long idle = idleFor.getOrDefault(stream, -delta) + delta; // unseen since (re)start: 0
      idleFor.put(stream, idle);
      if (idle < idleMs) {
        continue;
      }
      long end = m.maxTs() + frameMs;
      if (emitWindow(stream, end, null)) {
        m = m.provisional(end);
        meta.put(stream, m.toBytes());
        log.debug("stream {} is quiet: provisional window ending at {}", stream, end);
      }
    }
  }

  /**
   * Runs the model over {@code [end - W, end)} of the stream; false when it holds no frame. The
   * moments of a hop or final window (with the stream's meta {@code m} before it) carry the
   * window's band ({@link IndexerConfig#band}, headers {@link Topics#HEADER_BAND_FROM_MS}), by which
   * the index keeps each stretch from a few windows; a provisional window's ({@code m} null) carry
   * none: it may be retracted, so it must not replace anything.
   */
  private boolean emitWindow(String stream, long end, StreamMeta m) {
    long nominalStart = end - windowMs;
    List<Long> ts = new ArrayList<>();
    List<float[]> rows = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it =
        features.range(FeatureKeys.key(stream, nominalStart), FeatureKeys.key(stream, end - 1))) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        ts.add(FeatureKeys.timestamp(kv.key));
        rows.add(FeatureKeys.vector(kv.value));
      }
    }
    if (rows.isEmpty()) {
      return false;
    }
    float[][] window = rows.toArray(new float[0][]);
    List<PredictedMoment> predicted = model.predictor().predict(window, cfg.fps());
    String windowId = MomentRecord.windowIdFor(stream, nominalStart);
    byte[] key = stream.getBytes(StandardCharsets.UTF_8);
    var band = m == null ? null : cfg.band(end, coveredUntil(m));
    for (PredictedMoment p : predicted) {
      long startMs = timeAt(ts, p.startSec());
      long endMs = Math.max(startMs, timeAt(ts, p.endSec()));
      MomentRecord mr = new MomentRecord(MomentRecord.idFor(stream, nominalStart, p.slot()),
          stream, startMs, endMs, p.embedding(), p.score(), windowId, model.modelId());
      RecordHeaders h = new RecordHeaders();
      if (band != null) {
        h.add(Topics.HEADER_BAND_FROM_MS, Long.toString(band.fromMs()).getBytes(StandardCharsets.US_ASCII));
        h.add(Topics.HEADER_BAND_UNTIL_MS, Long.toString(band.untilMs()).getBytes(StandardCharsets.US_ASCII));
      }
      ctx.forward(new Record<>(key, (IndexerOutput) new IndexerOutput.Moment(mr), end, h));
    }
    windowSensor.record();
    return true;
  }

  /**
   * Epoch ms of a time relative to the window's first frame, through the actual timestamps: frame
   * {@code i} covers {@code [ts[i], ts[i+1])} (the last one frame length), and a time inside it is
   * placed proportionally, so the model's frame-centre times ({@code (k + 0.5) / fps}) land
   * between the two capture times as offline evaluation's clip seconds do.
   */
  private long timeAt(List<Long> ts, double sec) {
    int t = ts.size();
    double pos = sec * cfg.fps();
    if (!(pos > 0)) {
      return ts.get(0);
    }
    int i = (int) Math.floor(pos);
    if (i >= t) {
      return ts.get(t - 1) + frameMs;
    }
    long from = ts.get(i);
    long to = i + 1 < t ? ts.get(i + 1) : from + frameMs;
    return from + Math.round((pos - i) * (to - from));
  }

  private Long firstTimestampAtOrAfter(String stream, long from) {
    try (KeyValueIterator<Bytes, byte[]> it =
        features.range(FeatureKeys.key(stream, from), FeatureKeys.key(stream, Long.MAX_VALUE))) {
      return it.hasNext() ? FeatureKeys.timestamp(it.next().key) : null;
    }
  }

  /** Deletes the stream's features with timestamps up to and including {@code upTo}. */
  private void evict(String stream, long upTo) {
    List<Bytes> old = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it =
        features.range(FeatureKeys.key(stream, Long.MIN_VALUE), FeatureKeys.key(stream, upTo))) {
      it.forEachRemaining(kv -> old.add(kv.key));
    }
    for (Bytes k : old) {
      features.delete(k);
    }
  }

  private void deadLetter(Record<byte[], byte[]> r, String reason) {
    Optional<RecordMetadata> md = ctx.recordMetadata();
    ConsumerRecord<byte[], byte[]> in = new ConsumerRecord<>(
        md.map(RecordMetadata::topic).orElse(cfg.topics().features().name()),
        md.map(RecordMetadata::partition).orElse(-1),
        md.map(RecordMetadata::offset).orElse(-1L),
        r.timestamp(), TimestampType.CREATE_TIME, -1, -1, r.key(), r.value(), r.headers(),
        Optional.empty());
    var out = DeadLetter.of(cfg.topics(), STAGE, in, reason);
    deadSensor.record();
    log.warn("dead-lettered feature record at {}-{}@{}: {}", in.topic(), in.partition(),
        in.offset(), reason);
    // The dead letter's key, value and headers as DeadLetter capped them to fit the topic.
    ctx.forward(new Record<>(out.key(), (IndexerOutput) new IndexerOutput.Dead(out.value()),
        r.timestamp(), out.headers()));
  }

  @Override
  public void close() {
    var metrics = ctx.metrics();
    metrics.removeSensor(lateSensor);
    metrics.removeSensor(deadSensor);
    metrics.removeSensor(windowSensor);
    metrics.removeSensor(retractSensor);
  }
}
