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
 * Chunks without narrations are dropped.
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
      for (int from = 0; from < mat.rows(); from += chunkFrames) {
        int to = Math.min(mat.rows(), from + chunkFrames);
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
