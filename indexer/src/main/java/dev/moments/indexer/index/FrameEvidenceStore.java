package dev.moments.indexer.index;

import dev.moments.model.rank.FrameEvidence;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SortedNumericDocValues;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * Per-second frame evidence of every stream, kept in the {@link MomentIndex}'s Lucene directory
 * beside the moments and committed with them (so with the {@link Materializer}'s consumed offsets).
 *
 * <p><b>What is kept.</b> For each stream, second {@code i} covers capture times {@code [origin + i
 * s, origin + (i + 1) s)}, where {@code origin} is the capture time (epoch ms, exact, not rounded) of
 * the first frame the store ever received for the stream. Its evidence is the L2-normalised mean
 * of the L2-normalised frame features captured in it, exactly {@link FrameEvidence#pool}; seconds
 * without a frame (and frames with an all-zero feature) give a zero vector. A stream's grid does
 * not restart after an end-of-stream mark: capture time is absolute, so a new timeline simply
 * continues on the same grid after a gap of zero seconds.
 *
 * <p><b>Order.</b> Frames are expected in capture order per stream (a stream's features share one
 * partition). A second is finished when a frame of a later second or an end-of-stream mark arrives;
 * a frame for a finished second (or before the origin) is late: it is dropped and counted ({@link
 * Outcome#LATE}), since a finished second is stored quantised and cannot take more frames exactly.
 * A frame of another dimension than the stream's first is {@link Outcome#WRONG_DIMENSION}.
 *
 * <p><b>Storage.</b> One document per stream-minute (minute {@code m} = seconds {@code [60m, 60m +
 * 60)}) holding the finished seconds as int8 with one float32 scale per second ({@code max|x| /
 * 127}, so each component is within {@code max|x| / 254} of the float value) in a binary doc
 * value: {@code 13 + 60 × (4 + dim)} bytes for a full minute (measured on disk after a merge, 6
 * fps: 250,752 bytes per camera-hour at dim 64, 3,706,752 at dim 1024). One state document per stream holds
 * the origin, the dimension, the first second still accepted and the running float64 sum of the
 * second still open. Between commits the current minute's finished seconds and the open sum live
 * in memory; {@link #flush()} (called by the materializer right before every commit) writes them,
 * so a commit never loses a partly filled second, and replaying the records after the committed
 * offsets repeats exactly the same steps (upserts by key: idempotent).
 *
 * <p><b>Deletion.</b> Evidence, like moments, is never deleted by the pipeline: the moments topic
 * keeps everything and no stream deletion exists in the index or the API. Retracting a provisional
 * window deletes moments only; the frames it was computed from stand.
 *
 * <p>Threads: {@link #accept}, {@link #endOfStream} and {@link #flush} are called by one writer
 * thread (the materializer); the read methods may be called from any thread and see what was
 * written up to the index's last refresh.
 */
public final class FrameEvidenceStore {
  /** What happened to one frame. */
  public enum Outcome { ACCEPTED, LATE, WRONG_DIMENSION }

  /** Seconds per stored minute document. */
  public static final int SECONDS_PER_DOC = 60;

  static final String F_KEY = "ev_key";
  static final String F_KIND = "ev_kind";
  static final String F_STREAM = "ev_stream";
  static final String F_MINUTE = "ev_minute";
  static final String F_ORIGIN = "ev_origin";
  static final String F_BLOB = "ev_blob";
  static final String F_SECONDS = "ev_seconds";
  private static final String KIND_MINUTE = "minute";
  private static final String KIND_STATE = "state";
  private static final byte VERSION = 1;

  private final IndexWriter writer;
  private final SearcherManager searchers;
  private final Map<String, StreamState> states = new HashMap<>();

  FrameEvidenceStore(IndexWriter writer, SearcherManager searchers) throws IOException {
    this.writer = writer;
    this.searchers = searchers;
    load();
  }

  /** The per-second evidence of one stretch of a stream and where it starts. */
  public record Stretch(long startMs, float[][] seconds) {}

  /**
   * The query's cosine with each evidence second of a stretch (second {@code i} covers {@code
   * [startMs + i s, startMs + (i + 1) s)}).
   */
  public record Scores(long startMs, double[] scores) {}

  /** How much evidence a stream has: its grid origin and the number of stored minute documents. */
  public record Extent(long originMs, int dim, long minutes) {}

  // ---- writing (one thread) ----

  /** Adds one frame's feature, captured at {@code captureMs}, to its second. */
  public Outcome accept(String streamId, long captureMs, float[] feature) {
    Objects.requireNonNull(streamId, "streamId");
    StreamState st = states.get(streamId);
    if (st == null) {
      st = new StreamState(streamId, captureMs, feature.length);
      states.put(streamId, st);
    }
    if (feature.length != st.dim) {
      return Outcome.WRONG_DIMENSION;
    }
    long sec = Math.floorDiv(captureMs - st.origin, 1000L);
    if (sec < st.nextSec) {
      return Outcome.LATE;
    }
    if (st.openSec >= 0 && sec > st.openSec) {
      finish(st);
    }
    if (st.openSec < 0) {
      long minute = Math.floorDiv(sec, SECONDS_PER_DOC);
      if (minute != st.minute) {
        if (st.buffered()) {
          writeMinute(st);
        }
        Arrays.fill(st.seconds, null);
        st.minute = minute;
      }
      st.openSec = sec;
      st.openCount = 0;
      Arrays.fill(st.sum, 0);
    }
    FrameEvidence.addUnit(st.sum, feature);
    st.openCount++;
    st.dirty = true;
    return Outcome.ACCEPTED;
  }

  /** The stream's end-of-stream mark: its open second is finished. */
  public void endOfStream(String streamId) {
    StreamState st = states.get(streamId);
    if (st != null && st.openSec >= 0) {
      finish(st);
      st.dirty = true;
    }
  }

  /**
   * Writes every stream's state changed since the last flush (its current minute and open second)
   * to the index writer; call right before committing so that the commit holds them.
   */
  public void flush() {
    for (StreamState st : states.values()) {
      if (!st.dirty) {
        continue;
      }
      if (st.buffered()) {
        writeMinute(st);
      }
      writeState(st);
      st.dirty = false;
    }
  }

  private static void finish(StreamState st) {
    int slot = (int) Math.floorMod(st.openSec, (long) SECONDS_PER_DOC);
    st.seconds[slot] = quantize(st.sum);
    st.nextSec = st.openSec + 1;
    st.openSec = -1;
    st.openCount = 0;
  }

  // scale (float32) then dim int8 values of the normalised sum
  private static byte[] quantize(double[] sum) {
    double s = 0;
    for (double x : sum) {
      s += x * x;
    }
    ByteBuffer b = ByteBuffer.allocate(4 + sum.length);
    if (s == 0) {
      return b.array();
    }
    double inv = 1 / Math.sqrt(s);
    float[] v = new float[sum.length];
    for (int i = 0; i < sum.length; i++) {
      v[i] = (float) (sum[i] * inv);
    }
    // one definition of the stored precision: FrameEvidence.pool reads back the same values
    float scale = FrameEvidence.scale(v);
    b.putFloat(scale);
    b.put(FrameEvidence.int8(v, scale));
    return b.array();
  }

  private void writeMinute(StreamState st) {
    int present = 0;
    long mask = 0;
    for (int i = 0; i < SECONDS_PER_DOC; i++) {
      if (st.seconds[i] != null) {
        mask |= 1L << i;
        present++;
      }
    }
    ByteBuffer b = ByteBuffer.allocate(1 + 4 + 8 + present * (4 + st.dim));
    b.put(VERSION).putInt(st.dim).putLong(mask);
    for (int i = 0; i < SECONDS_PER_DOC; i++) {
      if (st.seconds[i] != null) {
        b.put(st.seconds[i]);
      }
    }
    Document d = new Document();
    String key = minuteKey(st.stream, st.minute);
    d.add(new StringField(F_KEY, key, Field.Store.NO));
    d.add(new StringField(F_KIND, KIND_MINUTE, Field.Store.NO));
    d.add(new StringField(F_STREAM, st.stream, Field.Store.YES));
    d.add(new LongField(F_MINUTE, st.minute, Field.Store.YES));
    d.add(new StoredField(F_ORIGIN, st.origin));
    // Doc values, not stored fields: read without decompressing a block per document.
    d.add(new BinaryDocValuesField(F_SECONDS, new BytesRef(b.array())));
    update(key, d);
  }

  private void writeState(StreamState st) {
    boolean open = st.openSec >= 0;
    ByteBuffer b = ByteBuffer.allocate(1 + 4 + 8 + 8 + 8 + 8 + 4 + (open ? 8 * st.dim : 0));
    b.put(VERSION).putInt(st.dim).putLong(st.origin).putLong(st.nextSec).putLong(st.minute)
        .putLong(st.openSec).putInt(st.openCount);
    if (open) {
      for (double x : st.sum) {
        b.putDouble(x);
      }
    }
    Document d = new Document();
    String key = stateKey(st.stream);
    d.add(new StringField(F_KEY, key, Field.Store.NO));
    d.add(new StringField(F_KIND, KIND_STATE, Field.Store.NO));
    d.add(new StringField(F_STREAM, st.stream, Field.Store.YES));
    d.add(new StoredField(F_BLOB, b.array()));
    update(key, d);
  }

  private void update(String key, Document d) {
    try {
      writer.updateDocument(new Term(F_KEY, key), d);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write frame evidence " + key, e);
    }
  }

  // The streams' states as of the index's last commit (the writer was just opened on it).
  private void load() throws IOException {
    IndexSearcher s = searchers.acquire();
    try {
      TopDocs top = s.search(new TermQuery(new Term(F_KIND, KIND_STATE)), Math.max(1, s.getIndexReader().maxDoc()));
      StoredFields stored = s.storedFields();
      for (ScoreDoc sd : top.scoreDocs) {
        Document d = stored.document(sd.doc);
        String stream = d.get(F_STREAM);
        ByteBuffer b = ByteBuffer.wrap(d.getBinaryValue(F_BLOB).bytes, d.getBinaryValue(F_BLOB).offset,
            d.getBinaryValue(F_BLOB).length);
        b.get();
        int dim = b.getInt();
        StreamState st = new StreamState(stream, b.getLong(), dim);
        st.nextSec = b.getLong();
        st.minute = b.getLong();
        st.openSec = b.getLong();
        st.openCount = b.getInt();
        if (st.openSec >= 0) {
          for (int i = 0; i < dim; i++) {
            st.sum[i] = b.getDouble();
          }
        }
        TreeMap<Long, byte[]> minute = minutes(s, new TermQuery(new Term(F_KEY, minuteKey(stream, st.minute))));
        if (!minute.isEmpty()) {
          ByteBuffer mb = ByteBuffer.wrap(minute.firstEntry().getValue());
          mb.get();
          mb.getInt();
          long mask = mb.getLong();
          for (int i = 0; i < SECONDS_PER_DOC; i++) {
            if ((mask & (1L << i)) != 0) {
              byte[] sec = new byte[4 + dim];
              mb.get(sec);
              st.seconds[i] = sec;
            }
          }
        }
        states.put(stream, st);
      }
    } finally {
      searchers.release(s);
    }
  }

  // The minute documents matching q, by minute: their blobs (copied).
  private static TreeMap<Long, byte[]> minutes(IndexSearcher s, Query q) throws IOException {
    TreeMap<Long, byte[]> out = new TreeMap<>();
    Weight w = s.createWeight(s.rewrite(q), ScoreMode.COMPLETE_NO_SCORES, 1f);
    for (LeafReaderContext ctx : s.getIndexReader().leaves()) {
      Scorer scorer = w.scorer(ctx);
      if (scorer == null) {
        continue;
      }
      BinaryDocValues blobs = DocValues.getBinary(ctx.reader(), F_SECONDS);
      SortedNumericDocValues minute = DocValues.getSortedNumeric(ctx.reader(), F_MINUTE);
      Bits live = ctx.reader().getLiveDocs();
      DocIdSetIterator it = scorer.iterator();
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        if ((live != null && !live.get(doc)) || !blobs.advanceExact(doc) || !minute.advanceExact(doc)) {
          continue;
        }
        BytesRef b = blobs.binaryValue();
        out.put(minute.nextValue(), Arrays.copyOfRange(b.bytes, b.offset, b.offset + b.length));
      }
    }
    return out;
  }

  private static String minuteKey(String stream, long minute) {
    return "m\u001f" + stream + "\u001f" + minute;
  }

  private static String stateKey(String stream) {
    return "s\u001f" + stream;
  }

  // ---- reading (any thread) ----

  /** Streams with stored evidence, sorted. */
  public List<String> streams() {
    return withSearcher(s -> {
      TreeSet<String> out = new TreeSet<>();
      for (LeafReaderContext ctx : s.getIndexReader().leaves()) {
        Terms terms = ctx.reader().terms(F_STREAM);
        if (terms == null) {
          continue;
        }
        TermsEnum te = terms.iterator();
        for (BytesRef t = te.next(); t != null; t = te.next()) {
          out.add(t.utf8ToString());
        }
      }
      return List.copyOf(out);
    });
  }

  /** The stream's grid and how many minute documents overlap {@code [fromMs, toMs]}; empty when it has none. */
  public Optional<Extent> extent(String streamId, Long fromMs, Long toMs) {
    return withSearcher(s -> {
      Optional<State> st = state(s, streamId);
      if (st.isEmpty()) {
        return Optional.empty();
      }
      long count = s.count(minutesQuery(streamId, st.get().origin, fromMs, toMs));
      return Optional.of(new Extent(st.get().origin, st.get().dim, count));
    });
  }

  /**
   * The stored evidence of a stream within {@code [fromMs, toMs]} (null = unbounded): from its first
   * to its last stored second there (missing seconds zero); empty when there is none. Seconds that
   * are still open (not finished by a later frame or an end-of-stream mark) are not included.
   */
  public Optional<Stretch> evidence(String streamId, Long fromMs, Long toMs) {
    List<long[]> secs = new ArrayList<>();
    List<float[]> vecs = new ArrayList<>();
    Optional<Long> start = visit(streamId, fromMs, toMs, (sec, vec) -> {
      secs.add(new long[] {sec});
      vecs.add(vec.clone());
    });
    if (start.isEmpty()) {
      return Optional.empty();
    }
    long first = secs.getFirst()[0];
    int n = (int) (secs.getLast()[0] - first + 1);
    int dim = vecs.getFirst().length;
    float[][] out = new float[n][];
    for (int i = 0; i < secs.size(); i++) {
      out[(int) (secs.get(i)[0] - first)] = vecs.get(i);
    }
    for (int i = 0; i < n; i++) {
      if (out[i] == null) {
        out[i] = new float[dim];
      }
    }
    return Optional.of(new Stretch(start.get() + first * 1000, out));
  }

  /**
   * {@link FrameEvidence#scores} of {@code query} with the evidence {@link #evidence} returns,
   * computed a minute at a time without materialising the whole stretch.
   *
   * @throws IllegalArgumentException when the query's dimension differs from the stream's evidence
   */
  public Optional<Scores> scores(String streamId, float[] query, Long fromMs, Long toMs) {
    long[] first = {Long.MIN_VALUE};
    double[][] out = {new double[SECONDS_PER_DOC]};
    int[] len = {0};
    // A minute at a time through FrameEvidence.scores: one definition of the score. Seconds come
    // in order; missing ones stay 0.
    Optional<Long> origin = visitMinutes(streamId, fromMs, toMs, (secs, rows, n) -> {
      if (first[0] == Long.MIN_VALUE) {
        first[0] = secs[0];
      }
      double[] sc = FrameEvidence.scores(query, n == rows.length ? rows : Arrays.copyOf(rows, n));
      int last = Math.toIntExact(secs[n - 1] - first[0]);
      if (last >= out[0].length) {
        out[0] = Arrays.copyOf(out[0], Math.max(last + 1, out[0].length * 2));
      }
      for (int i = 0; i < n; i++) {
        out[0][(int) (secs[i] - first[0])] = sc[i];
      }
      len[0] = last + 1;
    });
    if (origin.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Scores(origin.get() + first[0] * 1000, Arrays.copyOf(out[0], len[0])));
  }

  private interface MinuteVisitor {
    /** The first {@code n} of {@code secs} and {@code rows}: one minute's stored seconds in range. */
    void minute(long[] secs, float[][] rows, int n);
  }

  private Optional<Long> visitMinutes(String streamId, Long fromMs, Long toMs, MinuteVisitor v) {
    long[] secs = new long[SECONDS_PER_DOC];
    float[][][] rows = {null};
    int[] n = {0};
    long[] minute = {Long.MIN_VALUE};
    Optional<Long> origin = visit(streamId, fromMs, toMs, (sec, vec) -> {
      long m = Math.floorDiv(sec, SECONDS_PER_DOC);
      if (m != minute[0] && n[0] > 0) {
        v.minute(secs, rows[0], n[0]);
        n[0] = 0;
      }
      minute[0] = m;
      if (rows[0] == null) {
        rows[0] = new float[SECONDS_PER_DOC][vec.length];
      }
      secs[n[0]] = sec;
      System.arraycopy(vec, 0, rows[0][n[0]], 0, vec.length);
      n[0]++;
    });
    if (n[0] > 0) {
      v.minute(secs, rows[0], n[0]);
    }
    return origin;
  }

  private interface SecondVisitor {
    void second(long sec, float[] vector);
  }

  // Calls v for every stored second of the stream within [fromMs, toMs] in order (vector reused);
  // returns the stream's origin, or empty when no second was visited.
  private Optional<Long> visit(String streamId, Long fromMs, Long toMs, SecondVisitor v) {
    return withSearcher(s -> {
      Optional<State> st = state(s, streamId);
      if (st.isEmpty()) {
        return Optional.empty();
      }
      long origin = st.get().origin;
      int dim = st.get().dim;
      long loSec = fromMs == null ? Long.MIN_VALUE : Math.floorDiv(fromMs - origin, 1000L);
      long hiSec = toMs == null ? Long.MAX_VALUE : Math.floorDiv(toMs - origin, 1000L);
      TreeMap<Long, byte[]> byMinute = minutes(s, minutesQuery(streamId, origin, fromMs, toMs));
      float[] vec = new float[dim];
      boolean any = false;
      for (Map.Entry<Long, byte[]> e : byMinute.entrySet()) {
        ByteBuffer b = ByteBuffer.wrap(e.getValue());
        b.get();
        int d = b.getInt();
        if (d != dim) {
          throw new IllegalStateException("frame evidence of stream " + streamId + " minute " + e.getKey()
              + " has dimension " + d + ", its state " + dim);
        }
        long mask = b.getLong();
        for (int i = 0; i < SECONDS_PER_DOC; i++) {
          if ((mask & (1L << i)) == 0) {
            continue;
          }
          long sec = e.getKey() * SECONDS_PER_DOC + i;
          float scale = b.getFloat();
          if (sec < loSec || sec > hiSec) {
            b.position(b.position() + dim);
            continue;
          }
          for (int j = 0; j < dim; j++) {
            vec[j] = b.get() * scale;
          }
          v.second(sec, vec);
          any = true;
        }
      }
      return any ? Optional.of(origin) : Optional.empty();
    });
  }

  private static Query minutesQuery(String streamId, long origin, Long fromMs, Long toMs) {
    long lo = fromMs == null ? Long.MIN_VALUE : Math.floorDiv(Math.floorDiv(fromMs - origin, 1000L), SECONDS_PER_DOC);
    long hi = toMs == null ? Long.MAX_VALUE : Math.floorDiv(Math.floorDiv(toMs - origin, 1000L), SECONDS_PER_DOC);
    return new BooleanQuery.Builder()
        .add(new TermQuery(new Term(F_STREAM, streamId)), BooleanClause.Occur.FILTER)
        .add(new TermQuery(new Term(F_KIND, KIND_MINUTE)), BooleanClause.Occur.FILTER)
        .add(LongField.newRangeQuery(F_MINUTE, lo, hi), BooleanClause.Occur.FILTER)
        .build();
  }

  private record State(long origin, int dim) {}

  // A stream's origin and dimension never change once its state exists: cached for readers.
  private final java.util.concurrent.ConcurrentHashMap<String, State> known = new java.util.concurrent.ConcurrentHashMap<>();

  private Optional<State> state(IndexSearcher s, String streamId) throws IOException {
    State cached = known.get(streamId);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<State> read = readState(s, streamId);
    read.ifPresent(st -> known.put(streamId, st));
    return read;
  }

  private static Optional<State> readState(IndexSearcher s, String streamId) throws IOException {
    TopDocs top = s.search(new TermQuery(new Term(F_KEY, stateKey(streamId))), 1);
    if (top.scoreDocs.length == 0) {
      return Optional.empty();
    }
    BytesRef blob = s.storedFields().document(top.scoreDocs[0].doc).getBinaryValue(F_BLOB);
    ByteBuffer b = ByteBuffer.wrap(blob.bytes, blob.offset, blob.length);
    b.get();
    int dim = b.getInt();
    return Optional.of(new State(b.getLong(), dim));
  }

  private interface SearcherCall<T> {
    T call(IndexSearcher s) throws IOException;
  }

  private <T> T withSearcher(SearcherCall<T> call) {
    try {
      IndexSearcher s = searchers.acquire();
      try {
        return call.call(s);
      } finally {
        searchers.release(s);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read frame evidence", e);
    }
  }

  private static final class StreamState {
    final String stream;
    final long origin;
    final int dim;
    long nextSec;
    long minute = Long.MIN_VALUE;
    long openSec = -1;
    int openCount;
    final double[] sum;
    final byte[][] seconds = new byte[SECONDS_PER_DOC][];
    boolean dirty;

    StreamState(String stream, long origin, int dim) {
      this.stream = stream;
      this.origin = origin;
      this.dim = dim;
      this.sum = new double[dim];
    }

    boolean buffered() {
      for (byte[] s : seconds) {
        if (s != null) {
          return true;
        }
      }
      return false;
    }
  }
}
