package dev.moments.indexer.index;

import dev.moments.model.rank.CentredMoments;
import dev.moments.model.rank.MomentVectors;
import dev.moments.topics.MomentRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.FloatDocValuesField;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnByteVectorField;
import org.apache.lucene.document.LongField;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.SortedNumericDocValues;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.FieldExistsQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.Weight;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.index.ByteVectorValues;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnByteVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * The moment index: a Lucene index on disk with one document per moment (embedding as an HNSW
 * byte vector field with cosine similarity holding the int8 form of {@link MomentVectors}: no float
 * copy is kept; stream id, start/end ms as points and stored values, score, model id), upserted by
 * moment id so replays never duplicate. A moment that comes with its window's band (the indexer's
 * headers) is kept only as {@link CentredMoments} says: each stretch of a stream from the few
 * windows that had it nearest their middle ({@link #upsert(MomentRecord, CentredMoments.Band)}).
 *
 * <p>Search is k-NN with optional stream, time-overlap and minimum-similarity filters (the graph
 * searched with the int8 query for {@link #OVERSAMPLE} times k candidates, rescored with the float
 * query's exact cosine with their int8 vectors, {@link MomentVectors#similarity}, which is the
 * reported similarity), followed by a temporal non-maximum suppression: a hit whose interval
 * overlaps a better hit of the same stream with IoU above {@link #nmsIou()} is dropped
 * (neighbouring sliding windows predict the same moment several times).
 *
 * <p>Writes become durable only through {@link #commit(Map)}, which also stores the caller's
 * user data (the {@link Materializer} keeps its consumed offsets there). NOTE: {@link #close()}
 * does not commit; uncommitted upserts are lost, which is what makes the offsets in the last
 * commit describe the index exactly.
 */
public final class MomentIndex implements AutoCloseable {
  static final String F_ID = "id";
  static final String F_STREAM = "stream";
  /** The moment's window id (indexed only): a retraction deletes a window's moments by it. */
  static final String F_WINDOW = "window";
  /**
   * A moment stored with its window's band (indexed only, 2-d point): twice its centre, and twice
   * its centre minus twice its band's end; {@link #giveWay} finds the moments a later window
   * stands for by it.
   */
  static final String F_BAND = "band";
  static final String F_START = "start";
  static final String F_END = "end";
  static final String F_SCORE = "score";
  static final String F_MODEL = "model";
  static final String F_VECTOR = "vector";
  /** Id and score again as doc values, for {@link #momentsOf} (documents written before lack them). */
  static final String F_ID_DV = "id_dv";
  static final String F_SCORE_DV = "score_dv";

  /** The default IoU above which a worse overlapping hit of the same stream is suppressed. */
  public static final float DEFAULT_NMS_IOU = 0.5f;

  private static final int MAX_CANDIDATES = 10_000;
  /**
   * The k-NN graph search asks for {@code max(OVERSAMPLE * k, MIN_CANDIDATES)} candidates by the
   * int8 query's cosine with the int8 vectors, which {@link #search} rescores with the float
   * query's exact cosine: the int8 query moves the graph's scores by about as much as the int8
   * moment vectors do, so the true top k can sit a little below rank k in the graph's order
   * ({@code bench search}, 10^5 moments of dim 1024: recall@10 1.0000 against the exact top 10 by
   * this similarity).
   */
  static final int OVERSAMPLE = 4;
  static final int MIN_CANDIDATES = 100;

  private final Path path;
  private final Directory dir;
  private final IndexWriter writer;
  private final SearcherManager searchers;
  private final float nmsIou;
  private final FrameEvidenceStore evidence;
  private volatile int dim;
  // Per stream, the last window whose band was applied (guarded by this; empty after a restart,
  // when applying a window's band again changes nothing).
  private final Map<String, String> bandedWindow = new HashMap<>();
  private final java.util.concurrent.atomic.AtomicLong offCentre = new java.util.concurrent.atomic.AtomicLong();

  private MomentIndex(Path path, Directory dir, IndexWriter writer, float nmsIou) throws IOException {
    this.path = path;
    this.dir = dir;
    this.writer = writer;
    this.nmsIou = nmsIou;
    this.searchers = new SearcherManager(writer, null);
    try {
      requireInt8Vectors();
    } catch (RuntimeException e) {
      searchers.close();
      throw e;
    }
    this.dim = readDim();
    this.evidence = new FrameEvidenceStore(writer, searchers);
  }

  /** Opens the index in {@code dir}, creating it when missing, with the default NMS IoU. */
  public static MomentIndex open(Path dir) {
    return open(dir, DEFAULT_NMS_IOU);
  }

  /**
   * Opens the index in {@code dir}, creating it when missing.
   *
   * @param nmsIou suppress a hit overlapping a better hit of the same stream with IoU above this
   *     (in [0, 1]; 1 turns suppression off)
   */
  public static MomentIndex open(Path dir, float nmsIou) {
    Objects.requireNonNull(dir, "dir");
    if (!(nmsIou >= 0f && nmsIou <= 1f)) {
      throw new IllegalArgumentException("nmsIou must be in [0, 1], got " + nmsIou);
    }
    Directory d = null;
    try {
      d = FSDirectory.open(dir);
      IndexWriterConfig cfg = new IndexWriterConfig();
      cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND);
      cfg.setCommitOnClose(false);
      cfg.setRAMBufferSizeMB(64);
      IndexWriter w = new IndexWriter(d, cfg);
      if (!DirectoryReader.indexExists(d)) {
        w.commit();
      }
      try {
        return new MomentIndex(dir, d, w, nmsIou);
      } catch (RuntimeException | IOException e) {
        try {
          w.close(); // releases the write lock; nothing was written
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
        if (e instanceof RuntimeException re) {
          d.close();
          throw re;
        }
        throw (IOException) e;
      }
    } catch (IOException e) {
      if (d != null) {
        try {
          d.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw new UncheckedIOException("cannot open moment index at " + dir, e);
    }
  }

  public Path path() {
    return path;
  }

  public float nmsIou() {
    return nmsIou;
  }

  /**
   * The per-second frame evidence kept in this index beside the moments (committed with them by
   * {@link #commit(Map)}; the {@link Materializer} fills it from the features topic).
   */
  public FrameEvidenceStore evidence() {
    return evidence;
  }

  /** The embedding dimension of the stored moments, or 0 while the index has never held one. */
  public int dimension() {
    return dim;
  }

  /** Inserts a moment, or replaces the moment with the same id, whatever its window's band. */
  public boolean upsert(MomentRecord m) {
    return upsert(m, null);
  }

  /**
   * Inserts a moment, or replaces the moment with the same id, keeping each stretch of the stream
   * only from the windows nearest it ({@link CentredMoments}): with a {@code band} (the record's
   * band headers, see {@code Topics.HEADER_BAND_FROM_MS}), the first moment of a window drops the
   * stream's stored moments of other windows that give way to it ({@link
   * CentredMoments.Band#replaces}), and a moment centred before the band is not stored. A moment
   * without a band (a provisional window's, or a producer's that sends none) is stored as it is
   * and never dropped by a band; a retraction ({@link #deleteWindow}) removes it. Visible to
   * searches at once, durable after the next {@link #commit(Map)}.
   *
   * <p>The decision depends only on what the index holds and the order of the upserts: after a
   * kill the materializer replays the records after the last commit onto the committed index, and
   * applying a window again drops and stores the same moments.
   *
   * @return true when stored, false when centred before its window's band
   * @throws IllegalArgumentException when the embedding is all zeros, not finite, or of another
   *     dimension than the moments already in the index
   */
  public boolean upsert(MomentRecord m, CentredMoments.Band band) {
    byte[] v = MomentVectors.int8(m.embedding(), "moment " + m.momentId() + " embedding");
    synchronized (this) {
      if (dim != 0 && v.length != dim) {
        throw new IllegalArgumentException("moment " + m.momentId() + " has a " + v.length
            + "-dimensional embedding, but the index holds " + dim + "-dimensional embeddings");
      }
      dim = v.length;
      if (band != null) {
        if (!m.windowId().equals(bandedWindow.get(m.streamId()))) {
          giveWay(m.streamId(), m.windowId(), band);
          bandedWindow.put(m.streamId(), m.windowId());
        }
        if (!band.keeps(m.startMs(), m.endMs())) {
          offCentre.incrementAndGet();
          return false;
        }
      }
      writeMoment(m, v, band);
      return true;
    }
  }

  /** Drops the stream's stored moments of other windows that give way to the window of {@code band}. */
  private void giveWay(String stream, String window, CentredMoments.Band band) {
    Query q = new BooleanQuery.Builder()
        .add(new TermQuery(new Term(F_STREAM, stream)), BooleanClause.Occur.FILTER)
        .add(new TermQuery(new Term(F_WINDOW, window)), BooleanClause.Occur.MUST_NOT)
        // (2 x centre, 2 x (centre - own band end)): both at or past the bounds
        .add(LongPoint.newRangeQuery(F_BAND, new long[] {2 * band.fromMs(), 0},
            new long[] {Long.MAX_VALUE, Long.MAX_VALUE}), BooleanClause.Occur.FILTER)
        .build();
    try {
      writer.deleteDocuments(q);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot drop the moments of stream " + stream + " that window " + window
          + " stands for", e);
    }
  }

  private void writeMoment(MomentRecord m, byte[] v, CentredMoments.Band band) {
    Document doc = new Document();
    if (band != null) {
      long c2 = CentredMoments.mid2(m.startMs(), m.endMs());
      doc.add(new LongPoint(F_BAND, c2, c2 - 2 * band.untilMs()));
    }
    doc.add(new StringField(F_ID, m.momentId(), Field.Store.YES));
    doc.add(new StringField(F_STREAM, m.streamId(), Field.Store.YES));
    doc.add(new StringField(F_WINDOW, m.windowId(), Field.Store.NO));
    doc.add(new SortedDocValuesField(F_STREAM, new BytesRef(m.streamId())));
    doc.add(new LongField(F_START, m.startMs(), Field.Store.YES));
    doc.add(new LongField(F_END, m.endMs(), Field.Store.YES));
    doc.add(new StoredField(F_SCORE, m.score()));
    doc.add(new StoredField(F_MODEL, m.modelId()));
    doc.add(new BinaryDocValuesField(F_ID_DV, new BytesRef(m.momentId())));
    doc.add(new FloatDocValuesField(F_SCORE_DV, m.score()));
    doc.add(new KnnByteVectorField(F_VECTOR, v, VectorSimilarityFunction.COSINE));
    try {
      writer.updateDocument(new Term(F_ID, m.momentId()), doc);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write moment " + m.momentId(), e);
    }
  }

  /**
   * Deletes every moment of a window (a retraction of the indexer's provisional window). Visible
   * to searches after the next {@link #refresh()}, durable after the next {@link #commit(Map)}.
   */
  public void deleteWindow(String windowId) {
    try {
      synchronized (this) {
        writer.deleteDocuments(new Term(F_WINDOW, windowId));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the moments of window " + windowId, e);
    }
  }

  /** Makes every upsert so far durable, together with {@code userData} (replacing the last). */
  public void commit(Map<String, String> userData) {
    try {
      writer.setLiveCommitData(new HashMap<>(userData).entrySet());
      writer.commit();
      searchers.maybeRefresh();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot commit moment index at " + path, e);
    }
  }

  /** The user data of the last commit (empty for a new index). */
  public Map<String, String> commitData() {
    try {
      return Map.copyOf(SegmentInfos.readLatestCommit(dir).getUserData());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the last commit of " + path, e);
    }
  }

  /** Makes upserts so far visible to {@link #search}, {@link #size} and {@link #streams}. */
  public void refresh() {
    try {
      searchers.maybeRefreshBlocking();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot refresh moment index at " + path, e);
    }
  }

  /**
   * The best moments for a query embedding, best first: k-NN over the moments that pass the
   * filters, then minimum similarity, then temporal NMS per stream; at most {@code k} hits.
   *
   * @throws IllegalArgumentException for a null, empty, all-zero or non-finite query, a query of
   *     another dimension than the stored moments, {@code k < 1}, or {@code fromMs > toMs}
   */
  public List<MomentHit> search(SearchRequest r) {
    Objects.requireNonNull(r, "request");
    if (r.k() < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + r.k());
    }
    if (r.fromMs() != null && r.toMs() != null && r.fromMs() > r.toMs()) {
      throw new IllegalArgumentException(
          "time range is empty: from " + r.fromMs() + " is after to " + r.toMs());
    }
    byte[] q8 = MomentVectors.int8(r.query(), "query vector");
    try {
      searchers.maybeRefresh();
      IndexSearcher searcher = searchers.acquire();
      try {
        if (!holdsMomentsLike(searcher, q8.length)) {
          return List.of();
        }
        if (r.streams() != null && r.streams().isEmpty()) {
          return List.of();
        }
        Query filter = filter(r);
        int live = searcher.getIndexReader().numDocs();
        int candidates = Math.min(Math.max(OVERSAMPLE * r.k(), MIN_CANDIDATES), MAX_CANDIDATES);
        while (true) {
          // the graph search compares int8 with int8; the candidates are then rescored exactly
          KnnByteVectorQuery knn = new KnnByteVectorQuery(F_VECTOR, q8, candidates, filter);
          TopDocs top = searcher.search(knn, candidates);
          List<MomentHit> kept = suppress(searcher, top, rescore(searcher, top, r.query()), r);
          boolean exhausted = top.scoreDocs.length < candidates || candidates >= live
              || candidates >= MAX_CANDIDATES;
          if (kept.size() >= r.k() || exhausted) {
            return kept.size() > r.k() ? List.copyOf(kept.subList(0, r.k())) : kept;
          }
          candidates = Math.min(candidates * 4, MAX_CANDIDATES);
        }
      } finally {
        searchers.release(searcher);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot search moment index at " + path, e);
    }
  }

  private static Query filter(SearchRequest r) {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    boolean any = false;
    if (r.streams() != null) {
      List<BytesRef> terms = r.streams().stream().map(BytesRef::new).toList();
      b.add(new TermInSetQuery(F_STREAM, terms), BooleanClause.Occur.FILTER);
      any = true;
    }
    // A moment [start, end] overlaps [from, to] iff start <= to and end >= from.
    if (r.toMs() != null) {
      b.add(LongPoint.newRangeQuery(F_START, Long.MIN_VALUE, r.toMs()), BooleanClause.Occur.FILTER);
      any = true;
    }
    if (r.fromMs() != null) {
      b.add(LongPoint.newRangeQuery(F_END, r.fromMs(), Long.MAX_VALUE), BooleanClause.Occur.FILTER);
      any = true;
    }
    return any ? b.build() : null;
  }

  /**
   * The exact similarity of each hit of {@code top} with the float {@code query} ({@link
   * MomentVectors#similarity} with the hit's stored int8 vector, read back from its segment), in
   * the order of {@code top.scoreDocs}.
   */
  private static float[] rescore(IndexSearcher searcher, TopDocs top, float[] query) throws IOException {
    ScoreDoc[] sds = top.scoreDocs;
    Integer[] byDoc = new Integer[sds.length];
    for (int i = 0; i < sds.length; i++) {
      byDoc[i] = i;
    }
    java.util.Arrays.sort(byDoc, Comparator.comparingInt(i -> sds[i].doc));
    List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
    float[] out = new float[sds.length];
    LeafReaderContext leaf = null;
    ByteVectorValues vectors = null;
    KnnVectorValues.DocIndexIterator it = null;
    for (int i : byDoc) { // ascending doc ids: each leaf's iterator only moves forward
      int doc = sds[i].doc;
      if (leaf == null || doc >= leaf.docBase + leaf.reader().maxDoc()) {
        leaf = leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(doc, leaves));
        vectors = leaf.reader().getByteVectorValues(F_VECTOR);
        it = vectors == null ? null : vectors.iterator();
      }
      int local = doc - leaf.docBase;
      if (it == null || (it.docID() < local ? it.advance(local) : it.docID()) != local) {
        throw new IllegalStateException("k-NN hit " + doc + " has no moment vector");
      }
      out[i] = MomentVectors.similarity(query, vectors.vectorValue(it.index()));
    }
    return out;
  }

  /**
   * The hits of {@code top} at or above the minimum similarity, best first (similarity, then the
   * model's score, then id), without those overlapping a better hit of their stream by more than
   * the NMS IoU; stops once {@code r.k()} are kept. A candidate's stored fields are read only when
   * its turn comes (with the others of exactly its similarity, which the tie order needs), so a
   * query reads about k documents rather than every candidate.
   */
  private List<MomentHit> suppress(IndexSearcher searcher, TopDocs top, float[] similarities, SearchRequest r)
      throws IOException {
    StoredFields stored = searcher.storedFields();
    ScoreDoc[] sds = top.scoreDocs;
    List<Integer> order = new ArrayList<>(sds.length);
    for (int i = 0; i < sds.length; i++) {
      if (r.minScore() == null || similarities[i] >= r.minScore()) {
        order.add(i);
      }
    }
    order.sort((x, y) -> Float.compare(similarities[y], similarities[x]));
    Map<String, List<MomentHit>> keptByStream = new HashMap<>();
    List<MomentHit> kept = new ArrayList<>();
    for (int from = 0; from < order.size() && kept.size() < r.k(); ) {
      int to = from + 1;
      float similarity = similarities[order.get(from)];
      while (to < order.size() && similarities[order.get(to)] == similarity) {
        to++;
      }
      List<MomentHit> tied = new ArrayList<>(to - from);
      for (int j = from; j < to; j++) {
        Document d = stored.document(sds[order.get(j)].doc);
        tied.add(new MomentHit(
            d.get(F_ID),
            d.get(F_STREAM),
            d.getField(F_START).numericValue().longValue(),
            d.getField(F_END).numericValue().longValue(),
            similarity,
            d.getField(F_SCORE).numericValue().floatValue(),
            d.get(F_MODEL)));
      }
      tied.sort(Comparator.comparingDouble((MomentHit h) -> -h.momentScore()).thenComparing(MomentHit::momentId));
      for (MomentHit h : tied) {
        List<MomentHit> same = keptByStream.computeIfAbsent(h.streamId(), s -> new ArrayList<>());
        boolean overlaps = false;
        for (MomentHit better : same) {
          if (dev.moments.model.rank.Rankers.iouMs(h.startMs(), h.endMs(), better.startMs(), better.endMs()) > nmsIou) {
            overlaps = true;
            break;
          }
        }
        if (!overlaps) {
          same.add(h);
          kept.add(h);
        }
      }
      from = to;
    }
    return kept;
  }

  /**
   * Whether the index holds moments to compare a query of {@code queryDim} dimensions with: false
   * when it holds none yet.
   *
   * @throws IllegalArgumentException when the stored moments have another dimension
   */
  private boolean holdsMomentsLike(IndexSearcher searcher, int queryDim) {
    int indexDim = dimensionOf(searcher);
    if (indexDim == 0) {
      return false;
    }
    if (queryDim != indexDim) {
      throw new IllegalArgumentException("query vector has " + queryDim
          + " dimensions, but the index holds " + indexDim + "-dimensional moment embeddings");
    }
    return true;
  }

  /**
   * Every live moment of one stream overlapping {@code [fromMs, toMs]} (null = unbounded), each with
   * the exact cosine of its embedding with {@code query} as {@link MomentHit#similarity()} (not an
   * approximate k-NN: the served ranker sees all of a stream's moments); in no particular order.
   * Read from doc values; {@link MomentHit#modelId()} is not read (null).
   *
   * @throws IllegalArgumentException for an empty, all-zero or non-finite query or one of another
   *     dimension than the stored moments
   */
  public List<MomentHit> momentsOf(String streamId, Long fromMs, Long toMs, float[] query) {
    Objects.requireNonNull(streamId, "streamId");
    MomentVectors.unit(query, "query vector"); // the checks only: the similarity takes the query as given
    try {
      searchers.maybeRefresh();
      IndexSearcher searcher = searchers.acquire();
      try {
        if (!holdsMomentsLike(searcher, query.length)) {
          return List.of();
        }
        List<MomentHit> out = new ArrayList<>();
        scanStream(searcher, streamId, fromMs, toMs, (id, startMs, endMs, score, v) ->
            out.add(new MomentHit(id, streamId, startMs, endMs, MomentVectors.similarity(query, v), score, null)));
        return out;
      } finally {
        searchers.release(searcher);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the moments of stream " + streamId + " at " + path, e);
    }
  }

  /**
   * One live moment as {@link #scanStream} reads it; {@code vector} (its stored int8 values) is
   * valid during the call only.
   */
  private interface MomentVisitor {
    void visit(String id, long startMs, long endMs, float score, byte[] vector);
  }

  /**
   * Visits every live moment of {@code streamId} overlapping {@code [fromMs, toMs]} (null =
   * unbounded), read from doc values (stored fields for documents written before them).
   */
  private static void scanStream(IndexSearcher searcher, String streamId, Long fromMs, Long toMs,
      MomentVisitor visitor) throws IOException {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    b.add(new TermQuery(new Term(F_STREAM, streamId)), BooleanClause.Occur.FILTER);
    if (toMs != null) {
      b.add(LongPoint.newRangeQuery(F_START, Long.MIN_VALUE, toMs), BooleanClause.Occur.FILTER);
    }
    if (fromMs != null) {
      b.add(LongPoint.newRangeQuery(F_END, fromMs, Long.MAX_VALUE), BooleanClause.Occur.FILTER);
    }
    Weight w = searcher.createWeight(searcher.rewrite(b.build()), ScoreMode.COMPLETE_NO_SCORES, 1f);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      Scorer scorer = w.scorer(ctx);
      ByteVectorValues vectors = ctx.reader().getByteVectorValues(F_VECTOR);
      if (scorer == null || vectors == null) {
        continue;
      }
      KnnVectorValues.DocIndexIterator vit = vectors.iterator();
      StoredFields stored = ctx.reader().storedFields();
      BinaryDocValues ids = DocValues.getBinary(ctx.reader(), F_ID_DV);
      NumericDocValues scores = DocValues.getNumeric(ctx.reader(), F_SCORE_DV);
      SortedNumericDocValues starts = DocValues.getSortedNumeric(ctx.reader(), F_START);
      SortedNumericDocValues ends = DocValues.getSortedNumeric(ctx.reader(), F_END);
      Bits live = ctx.reader().getLiveDocs();
      DocIdSetIterator it = scorer.iterator();
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        if ((live != null && !live.get(doc)) || vit.docID() > doc || vit.advance(doc) != doc) {
          continue;
        }
        byte[] v = vectors.vectorValue(vit.index());
        if (ids.advanceExact(doc) && scores.advanceExact(doc) && starts.advanceExact(doc) && ends.advanceExact(doc)) {
          visitor.visit(ids.binaryValue().utf8ToString(), starts.nextValue(), ends.nextValue(),
              Float.intBitsToFloat((int) scores.longValue()), v);
        } else { // written before the doc values: stored fields (slower)
          Document d = stored.document(doc);
          visitor.visit(d.get(F_ID), d.getField(F_START).numericValue().longValue(),
              d.getField(F_END).numericValue().longValue(), d.getField(F_SCORE).numericValue().floatValue(), v);
        }
      }
    }
  }

  /**
   * The ids of the streams that have or had moments (a stream whose moments were all retracted may
   * stay listed until segments merge), sorted; cheaper than {@link #streams()}.
   */
  public List<String> streamIds() {
    try {
      searchers.maybeRefresh();
      IndexSearcher searcher = searchers.acquire();
      try {
        java.util.TreeSet<String> out = new java.util.TreeSet<>();
        for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
          org.apache.lucene.index.Terms terms = ctx.reader().terms(F_STREAM);
          if (terms == null) {
            continue;
          }
          org.apache.lucene.index.TermsEnum te = terms.iterator();
          for (BytesRef t = te.next(); t != null; t = te.next()) {
            out.add(t.utf8ToString());
          }
        }
        return List.copyOf(out);
      } finally {
        searchers.release(searcher);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read streams of moment index at " + path, e);
    }
  }

  /** Per-stream counts and time extents of the live moments, ordered by stream id. */
  public List<StreamStats> streams() {
    try {
      searchers.maybeRefresh();
      IndexSearcher searcher = searchers.acquire();
      try {
        Map<String, long[]> acc = new TreeMap<>();
        for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
          LeafReader leaf = ctx.reader();
          Bits live = leaf.getLiveDocs();
          SortedDocValues stream = DocValues.getSorted(leaf, F_STREAM);
          SortedNumericDocValues start = DocValues.getSortedNumeric(leaf, F_START);
          SortedNumericDocValues end = DocValues.getSortedNumeric(leaf, F_END);
          for (int doc = 0; doc < leaf.maxDoc(); doc++) {
            if ((live != null && !live.get(doc)) || !stream.advanceExact(doc)
                || !start.advanceExact(doc) || !end.advanceExact(doc)) {
              continue;
            }
            String id = stream.lookupOrd(stream.ordValue()).utf8ToString();
            long[] a = acc.computeIfAbsent(id, k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 0});
            a[0] = Math.min(a[0], start.nextValue());
            a[1] = Math.max(a[1], end.nextValue());
            a[2]++;
          }
        }
        List<StreamStats> out = new ArrayList<>(acc.size());
        acc.forEach((id, a) -> out.add(new StreamStats(id, a[0], a[1], a[2])));
        return out;
      } finally {
        searchers.release(searcher);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read streams of moment index at " + path, e);
    }
  }

  /** The number of live moments visible to searches. */
  public long size() {
    try {
      searchers.maybeRefresh();
      IndexSearcher searcher = searchers.acquire();
      try {
        // Only moment documents: frame evidence documents have no moment vector.
        return searcher.count(new FieldExistsQuery(F_VECTOR));
      } finally {
        searchers.release(searcher);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read moment index at " + path, e);
    }
  }

  /** The bytes the index files take on disk now (committed and in-flight segments). */
  public long sizeOnDiskBytes() {
    long total = 0;
    try {
      for (String f : dir.listAll()) {
        try {
          total += dir.fileLength(f);
        } catch (NoSuchFileException | java.io.FileNotFoundException gone) {
          // deleted by a merge between listAll and fileLength
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list moment index at " + path, e);
    }
    return total;
  }

  /** Merges segments down to at most {@code maxSegments} (used after bulk loads). */
  public void forceMerge(int maxSegments) {
    try {
      writer.forceMerge(maxSegments);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot merge moment index at " + path, e);
    }
  }

  /** Closes the index WITHOUT committing (see the class note). */
  @Override
  public void close() {
    IOException failure = null;
    for (AutoCloseable c : new AutoCloseable[] {searchers, writer, dir}) {
      try {
        c.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      } catch (Exception e) {
        throw new IllegalStateException("cannot close moment index at " + path, e);
      }
    }
    if (failure != null) {
      throw new UncheckedIOException("cannot close moment index at " + path, failure);
    }
  }

  // An index written before the moments' vectors were int8 holds them as float32 under the same
  // field, which Lucene cannot mix with bytes.
  private void requireInt8Vectors() throws IOException {
    IndexSearcher s = searchers.acquire();
    try {
      for (LeafReaderContext ctx : s.getIndexReader().leaves()) {
        FieldInfo fi = ctx.reader().getFieldInfos().fieldInfo(F_VECTOR);
        if (fi != null && fi.getVectorDimension() > 0 && fi.getVectorEncoding() != VectorEncoding.BYTE) {
          throw new IllegalStateException("the moment index at " + path + " holds " + fi.getVectorEncoding()
              + " moment vectors, written by a version before int8 vectors; this version cannot add to it."
              + " Move or delete the folder: the query API rebuilds it from the moments and features"
              + " topics (while their retention still holds the records)");
        }
      }
    } finally {
      searchers.release(s);
    }
  }

  private int readDim() throws IOException {
    IndexSearcher s = searchers.acquire();
    try {
      return dimensionOf(s);
    } finally {
      searchers.release(s);
    }
  }

  private int dimensionOf(IndexSearcher s) {
    for (LeafReaderContext ctx : s.getIndexReader().leaves()) {
      FieldInfo fi = ctx.reader().getFieldInfos().fieldInfo(F_VECTOR);
      if (fi != null && fi.getVectorDimension() > 0) {
        return fi.getVectorDimension();
      }
    }
    return dim;
  }

  /** Moments not stored because they were centred before their window's band (this instance). */
  public long offCentre() {
    return offCentre.get();
  }
}
