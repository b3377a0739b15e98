package dev.moments.trainer;

import dev.moments.featurizer.store.FeatureManifest;
import dev.moments.featurizer.store.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The training chunks of a feature directory and its narrations: every video is cut into
 * chunks of {@code chunkSec} (600 s by default, the last one shorter); each chunk keeps its
 * narrations (times relative to the chunk start) with their text embeddings. Features stay
 * memory-mapped ({@link Npy}); {@link #frames} copies one chunk's rows when a batch needs them.
 * Chunks without narrations are dropped. {@link #openRandom} cuts seeded random chunks instead,
 * placed as an online indexer's windows are (for a model that will serve hop windows).
 */
public final class TrainingSet {
  /** One chunk: frames {@code [from, to)} of a video and its narrations. */
  public record Chunk(String videoUid, int from, int to, double[] times, int[] sequences, float[][] textEmbeddings) {
    /** A chunk whose narrations all belong to one sequence. */
    public Chunk(String videoUid, int from, int to, double[] times, float[][] textEmbeddings) {
      this(videoUid, from, to, times, new int[times.length], textEmbeddings);
    }

    public int frames() {
      return to - from;
    }
  }

  private final FeatureManifest manifest;
  private final Map<String, Npy.Matrix> features;
  private final List<Chunk> chunks;
  private final int textDim;
  private final Map<String, Object> summary;

  private TrainingSet(FeatureManifest manifest, Map<String, Npy.Matrix> features, List<Chunk> chunks, int textDim,
      Map<String, Object> summary) {
    this.manifest = manifest;
    this.features = features;
    this.chunks = chunks;
    this.textDim = textDim;
    this.summary = summary;
  }

  /**
   * Opens a feature directory (manifest + {uid}.npy) with narrations per video uid.
   *
   * @param textEmbedding text -> L2-normalized embedding, or null when it has none
   * @throws IllegalArgumentException when a narration has no text embedding, embeddings
   *     disagree in dimension, or no chunk has narrations
   */
  public static TrainingSet open(Path featuresDir, Map<String, List<TimedText>> narrations,
      Function<String, float[]> textEmbedding, double chunkSec) throws IOException {
    if (!(chunkSec > 0)) {
      throw new IllegalArgumentException("chunk length must be > 0 s, got " + chunkSec);
    }
    return build(featuresDir, narrations, textEmbedding, chunkSec, (uid, rows, chunkFrames) -> {
      List<int[]> spans = new ArrayList<>();
      for (int from = 0; from < rows; from += chunkFrames) {
        spans.add(new int[] {from, Math.min(rows, from + chunkFrames)});
      }
      return spans;
    }, Map.of());
  }

  /**
   * Opens a feature directory like {@link #open}, but cuts each video into chunks as the online
   * indexer cuts windows at a random hop position, instead of one fixed grid: each chunk ends at a
   * frame drawn uniformly from {@code [minSec * fps, frames]} of its video and reaches back {@code
   * chunkSec} (less near the video's start, as the indexer's early windows do). A video of {@code
   * d} seconds gets {@code max(1, round(coverage * d / chunkSec))} chunks, so {@code coverage}
   * says how many chunks see an average second. The draws depend only on {@code seed} and the
   * video uid (not on the order of the videos), so the same call gives the same chunks.
   *
   * @param minSec the shortest chunk, in seconds (e.g. the indexer's hop: its first window)
   * @param coverage chunks per {@code chunkSec} of video, &gt; 0
   */
  public static TrainingSet openRandom(Path featuresDir, Map<String, List<TimedText>> narrations,
      Function<String, float[]> textEmbedding, double chunkSec, double minSec, double coverage, long seed)
      throws IOException {
    if (!(chunkSec > 0) || !(minSec > 0) || minSec > chunkSec) {
      throw new IllegalArgumentException("random chunks need 0 < min length <= chunk length, got min " + minSec
          + " s and chunk " + chunkSec + " s");
    }
    if (!(coverage > 0)) {
      throw new IllegalArgumentException("chunk coverage must be > 0, got " + coverage);
    }
    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("chunking", "random");
    extra.put("chunk_min_sec", minSec);
    extra.put("chunk_coverage", coverage);
    extra.put("chunk_seed", seed);
    return build(featuresDir, narrations, textEmbedding, chunkSec, (uid, rows, chunkFrames) -> {
      int minFrames = Math.min(rows, Math.max(1, (int) Math.round(minSec * chunkFrames / chunkSec)));
      long n = Math.max(1, Math.round(coverage * rows / chunkFrames));
      java.util.Random rnd = new java.util.Random(seed * 1_000_003L + uid.hashCode());
      List<int[]> spans = new ArrayList<>();
      for (long i = 0; i < n; i++) {
        int to = minFrames + rnd.nextInt(rows - minFrames + 1);
        spans.add(new int[] {Math.max(0, to - chunkFrames), to});
      }
      return spans;
    }, extra);
  }

  /** Where a video of {@code rows} frames is cut: {@code [from, to)} frame spans. */
  private interface Cutter {
    List<int[]> spans(String uid, int rows, int chunkFrames);
  }

  private static TrainingSet build(Path featuresDir, Map<String, List<TimedText>> narrations,
      Function<String, float[]> textEmbedding, double chunkSec, Cutter cutter, Map<String, Object> extra)
      throws IOException {
    FeatureManifest manifest = FeatureManifest.read(featuresDir);
    int chunkFrames = Math.max(1, (int) Math.round(chunkSec * manifest.fps()));
    Map<String, Npy.Matrix> features = new TreeMap<>();
    List<Chunk> chunks = new ArrayList<>();
    int textDim = -1;
    int videosWithout = 0;
    int narrationCount = 0;
    List<String> missing = new ArrayList<>();
    for (String uid : new TreeMap<>(narrations).keySet()) {
      Path file = FeatureManifest.featureFile(featuresDir, uid);
      if (!manifest.videos().containsKey(uid) || !Files.isRegularFile(file)) {
        videosWithout++;
        continue;
      }
      Npy.Matrix mat = Npy.read(file);
      if (mat.cols() != manifest.dim()) {
        throw new IllegalArgumentException(file + " has " + mat.cols() + " columns, manifest dim is " + manifest.dim());
      }
      features.put(uid, mat);
      List<TimedText> sorted = new ArrayList<>(narrations.get(uid));
      sorted.sort((a, b) -> Double.compare(a.timestampSec(), b.timestampSec()));
      if (mat.rows() == 0) {
        continue;
      }
      for (int[] span : cutter.spans(uid, mat.rows(), chunkFrames)) {
        int from = span[0];
        int to = span[1];
        double start = from / manifest.fps();
        double end = to / manifest.fps();
        List<Double> times = new ArrayList<>();
        List<Integer> seqs = new ArrayList<>();
        List<float[]> embs = new ArrayList<>();
        for (TimedText n : sorted) {
          if (n.timestampSec() >= start && n.timestampSec() < end) {
            float[] e = textEmbedding.apply(n.text());
            if (e == null) {
              if (missing.size() < 3) {
                missing.add(n.text());
              }
              missing.add(null);
              continue;
            }
            if (textDim < 0) {
              textDim = e.length;
            } else if (e.length != textDim) {
              throw new IllegalArgumentException("text embeddings disagree in dimension: " + textDim + " and " + e.length);
            }
            times.add(n.timestampSec() - start);
            seqs.add(n.sequence());
            embs.add(e);
          }
        }
        if (!times.isEmpty()) {
          narrationCount += times.size();
          chunks.add(new Chunk(uid, from, to, times.stream().mapToDouble(Double::doubleValue).toArray(),
              seqs.stream().mapToInt(Integer::intValue).toArray(), embs.toArray(new float[0][])));
        }
      }
    }
    if (!missing.isEmpty()) {
      List<String> examples = missing.stream().filter(s -> s != null).toList();
      throw new IllegalArgumentException(
          (missing.size() - examples.size()) + " narrations have no text embedding, e.g. " + examples);
    }
    if (chunks.isEmpty()) {
      throw new IllegalArgumentException(
          "no training chunk: none of the " + narrations.size() + " narrated videos has features with narrations in " + featuresDir);
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("features_dir", featuresDir.toString());
    summary.put("videos", features.size());
    summary.put("videos_without_features", videosWithout);
    summary.put("chunks", chunks.size());
    summary.put("narrations", narrationCount);
    summary.put("chunk_sec", chunkSec);
    summary.putAll(extra);
    return new TrainingSet(manifest, features, Collections.unmodifiableList(chunks), textDim, summary);
  }

  public List<Chunk> chunks() {
    return chunks;
  }

  public String encoderId() {
    return manifest.encoderId();
  }

  public double fps() {
    return manifest.fps();
  }

  public int featureDim() {
    return manifest.dim();
  }

  public int textDim() {
    return textDim;
  }

  public Map<String, Object> summary() {
    return summary;
  }

  /** The chunk's frame features {@code [frames][C]}, read from the memory map. */
  public float[][] frames(Chunk c) {
    return features.get(c.videoUid()).rows(c.from(), c.to());
  }
}
