package dev.moments.model;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.moments.model.nn.FrameTokenizer;
import dev.moments.model.nn.LavitiBlock;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A LAVITI network with its config and checkpoint metadata: the {@link MomentPredictor} used by
 * the indexer and eval, and the block the trainer optimizes.
 *
 * <p>Inference: the decoder's start/end TEs {@code ŝ, ê} are compared (cosine) with the TE table
 * interpolated to one entry per input frame (frame k at relative position {@code (k + 0.5) /
 * T}); the argmax frame's centre {@code (k + 0.5) / fps} is the time. When the start frame comes
 * after the end frame the two are swapped (the pair is kept, its order fixed), so {@code start
 * <= end} always. {@code score = σ(t·cos_s + b) · σ(t·cos_e + b)} with the learned sigmoid-loss
 * temperature t and bias b: the model's probability that both predicted TEs match a timestamp of
 * the grid, in [0, 1].
 *
 * <p>A checkpoint is a directory with {@code config.json}, {@code laviti.params} (DJL parameter
 * format) and {@code metadata.json}. {@link #predict} and {@link #predictBatch} are thread-safe;
 * {@link #save} and training must not run concurrently with them.
 */
public final class LavitiModel implements MomentPredictor, AutoCloseable {
  public static final String CONFIG_FILE = "config.json";
  public static final String PARAMS_FILE = "laviti.params";

  private final LavitiConfig cfg;
  private final NDManager manager;
  private final LavitiBlock block;
  private volatile CheckpointMetadata metadata;
  private volatile String modelId;

  private LavitiModel(LavitiConfig cfg, NDManager manager, LavitiBlock block, CheckpointMetadata metadata) {
    this(cfg, manager, block, metadata, null);
  }

  private LavitiModel(LavitiConfig cfg, NDManager manager, LavitiBlock block, CheckpointMetadata metadata,
      String modelId) {
    this.cfg = cfg;
    this.manager = manager;
    this.block = block;
    this.metadata = metadata;
    this.modelId = modelId != null ? modelId : computeModelId();
  }

  /**
   * Loads a checkpoint directory. Checkpoints written while the tokenizer was a DJL {@code Conv1d}
   * load too: the conv weight is converted ({@link FrameTokenizer}) and the model keeps the id
   * it had.
   *
   * @throws IllegalArgumentException when the directory or one of its files is missing or
   *     corrupt, naming what is wrong
   */
  public static LavitiModel load(Path checkpointDir) {
    if (!Files.isDirectory(checkpointDir)) {
      throw new IllegalArgumentException("model checkpoint directory " + checkpointDir + " does not exist");
    }
    for (String f : new String[] {CONFIG_FILE, PARAMS_FILE, CheckpointMetadata.FILE_NAME}) {
      if (!Files.isRegularFile(checkpointDir.resolve(f))) {
        throw new IllegalArgumentException("model checkpoint " + checkpointDir + " has no " + f);
      }
    }
    try {
      LavitiConfig cfg = LavitiConfig.read(checkpointDir.resolve(CONFIG_FILE));
      CheckpointMetadata meta = CheckpointMetadata.read(checkpointDir.resolve(CheckpointMetadata.FILE_NAME));
      if (meta.featureDim() != cfg.featureDim() || meta.textDim() != cfg.textDim()) {
        throw new IllegalArgumentException(
            "model checkpoint " + checkpointDir + ": metadata dims (" + meta.featureDim() + ", " + meta.textDim()
                + ") disagree with config dims (" + cfg.featureDim() + ", " + cfg.textDim() + ")");
      }
      byte[] params = Files.readAllBytes(checkpointDir.resolve(PARAMS_FILE));
      NDManager manager = NDManager.newBaseManager();
      LavitiBlock block = build(cfg, manager);
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(params))) {
        block.loadParameters(manager, in);
      } catch (MalformedModelException | IOException | RuntimeException e) {
        manager.close();
        throw new IllegalArgumentException(
            "model checkpoint " + checkpointDir + ": " + PARAMS_FILE + " is corrupt or does not match "
                + CONFIG_FILE + " (" + e.getMessage() + ")", e);
      }
      // a checkpoint of the conv tokenizer keeps the id it was written with (the hash of its file),
      // so indexes and moments that name it stay valid; its next save gets the new format's id
      String id = block.tokenizer().loadedLegacy() ? idOf(params) : null;
      return new LavitiModel(cfg, manager, block, meta, id);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A randomly initialised model (tests, benchmarks, the starting point of training). The
   * initialisation is a pure function of {@code seed}: Xavier-uniform weights, zero biases, unit
   * LayerNorm gains, N(0, 1) queries, sinusoidal TEs, log t = log 10, b = -10.
   */
  public static LavitiModel random(LavitiConfig cfg, String encoderId, double fps, long seed) {
    NDManager manager = NDManager.newBaseManager();
    LavitiBlock block = build(cfg, manager);
    SplittableRandom rnd = new SplittableRandom(seed);
    for (Pair<String, Parameter> p : block.getParameters()) {
      Parameter param = p.getValue();
      Shape shape = param.getShape();
      float[] v = new float[Math.toIntExact(shape.size())];
      String name = p.getKey();
      if (param == block.temporalEmbeddings()) {
        float[][] sin = TemporalEmbeddings.sinusoidal(cfg.teLength(), cfg.dModel());
        for (int i = 0; i < sin.length; i++) {
          System.arraycopy(sin[i], 0, v, i * cfg.dModel(), cfg.dModel());
        }
      } else if (param == block.queries()) {
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) gaussian(rnd);
        }
      } else if (param == block.logitScale()) {
        v[0] = (float) Math.log(10);
      } else if (param == block.logitBias()) {
        v[0] = -10f;
      } else if (param == block.tokenizer().weight()) {
        // drawn as the conv tokenizer's [D, C, k] weight (fan-in C*k, fan-out D*k), then laid out
        // as [D, k*C]: a seed gives the same network as when the tokenizer was a Conv1d
        int d = cfg.dModel();
        int c = cfg.featureDim();
        int k = cfg.kernel();
        double bound = Math.sqrt(6.0 / ((double) c * k + (double) d * k));
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
        v = FrameTokenizer.fromConvLayout(v, d, c, k);
      } else if (param.getType() == Parameter.Type.GAMMA) {
        java.util.Arrays.fill(v, 1f);
      } else if (param.getType() == Parameter.Type.WEIGHT) {
        long receptive = shape.dimension() > 2 ? shape.slice(2).size() : 1;
        double fanIn = shape.get(1) * receptive;
        double fanOut = shape.get(0) * receptive;
        double bound = Math.sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
      } else if (param.getType() != Parameter.Type.BIAS && param.getType() != Parameter.Type.BETA) {
        throw new IllegalStateException("no initialisation rule for parameter " + name + " " + param.getType());
      }
      param.getArray().set(FloatBuffer.wrap(v));
    }
    return new LavitiModel(cfg, manager, block, CheckpointMetadata.untrained(encoderId, cfg.featureDim(), cfg.textDim(), fps));
  }

  private static double gaussian(SplittableRandom rnd) {
    double u1 = rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static LavitiBlock build(LavitiConfig cfg, NDManager manager) {
    LavitiBlock block = new LavitiBlock(cfg);
    Shape x = new Shape(1, cfg.kernel(), cfg.featureDim());
    block.initialize(manager, DataType.FLOAT32, x, new Shape(1, 1, cfg.teLength()));
    return block;
  }

  public LavitiConfig config() {
    return cfg;
  }

  public CheckpointMetadata metadata() {
    return metadata;
  }

  /** A stable id of the weights: {@code laviti-} + the first 12 hex digits of SHA-256 of the parameters. */
  public String modelId() {
    return modelId;
  }

  /** The network, for the trainer. */
  public LavitiBlock block() {
    return block;
  }

  /** The manager that owns the parameters (the trainer puts its optimizer state here). */
  public NDManager manager() {
    return manager;
  }

  /**
   * Checks that features of {@code encoderId} with {@code featureDim} can be fed to this model.
   *
   * @throws IllegalArgumentException when the encoder id or the dimension differs
   */
  public void checkCompatible(String encoderId, int featureDim) {
    if (!metadata.encoderId().equals(encoderId) || cfg.featureDim() != featureDim) {
      throw new IllegalArgumentException(
          "model " + modelId + " expects features of encoder " + metadata.encoderId() + " (dim " + cfg.featureDim()
              + "), got encoder " + encoderId + " (dim " + featureDim + ")");
    }
  }

  @Override
  public List<PredictedMoment> predict(float[][] window, double fps) {
    return predictBatch(java.util.Collections.singletonList(window), fps).get(0);
  }

  /** Predicts several windows (of any lengths) in one forward pass; result i belongs to window i. */
  public List<List<PredictedMoment>> predictBatch(List<float[][]> windows, double fps) {
    if (!(fps > 0)) {
      throw new IllegalArgumentException("fps must be > 0, got " + fps);
    }
    JniUtils.setGradMode(false);
    int m = cfg.numQueries();
    int d = cfg.dModel();
    int l = cfg.teLength();
    int tdim = cfg.textDim();
    float[] v;
    float[] ps;
    float[] pe;
    float[] norms;
    float[] adj;
    float scale;
    float bias;
    try (NDScope scope = new NDScope();
        NDManager sub = manager.newSubManager()) {
      scope.suppressNotUsedWarning();
      NDList in = WindowBatch.inputs(sub, cfg, windows);
      NDList out = block.forward(new ParameterStore(sub, false), in, false);
      NDArray te = block.temporalEmbeddings().getArray();
      NDArray teT = te.transpose();
      v = out.get(0).toFloatArray();
      // similarities of every predicted start/end TE with every TE row: [B, M, L]
      ps = out.get(1).matMul(teT).toFloatArray();
      pe = out.get(2).matMul(teT).toFloatArray();
      norms = te.square().sum(new int[] {1}).toFloatArray();
      adj = te.get("0:-1").mul(te.get("1:")).sum(new int[] {1}).toFloatArray();
      scale = (float) Math.exp(block.logitScale().getArray().getFloat(0));
      bias = block.logitBias().getArray().getFloat(0);
    }
    List<List<PredictedMoment>> result = new ArrayList<>(windows.size());
    for (int i = 0; i < windows.size(); i++) {
      int t = windows.get(i).length;
      // TE grid over the frames: lower row, upper weight and norm of each interpolated TE
      int[] lo = new int[t];
      float[] up = new float[t];
      float[] norm = new float[t];
      for (int k = 0; k < t; k++) {
        double r = (k + 0.5) / t;
        lo[k] = TemporalEmbeddings.lower(r, l);
        double w = TemporalEmbeddings.upperWeight(r, l);
        up[k] = (float) w;
        double sq = (1 - w) * (1 - w) * norms[lo[k]] + 2 * w * (1 - w) * adj[lo[k]] + w * w * norms[lo[k] + 1];
        norm[k] = (float) Math.sqrt(Math.max(sq, 1e-12));
      }
      List<PredictedMoment> moments = new ArrayList<>(m);
      for (int q = 0; q < m; q++) {
        int base = (i * m + q) * l;
        int[] s = argmaxCos(ps, base, lo, up, norm);
        int[] e = argmaxCos(pe, base, lo, up, norm);
        int ks = s[0];
        int ke = e[0];
        float cs = Float.intBitsToFloat(s[1]);
        float ce = Float.intBitsToFloat(e[1]);
        if (ks > ke) {
          int tmp = ks;
          ks = ke;
          ke = tmp;
        }
        float score = sigmoid(scale * cs + bias) * sigmoid(scale * ce + bias);
        float[] emb = new float[tdim];
        System.arraycopy(v, (i * m + q) * tdim, emb, 0, tdim);
        moments.add(new PredictedMoment(q, emb, (ks + 0.5) / fps, (ke + 0.5) / fps, score));
      }
      result.add(moments);
    }
    return result;
  }

  /** Returns {argmax frame, float bits of the max cosine} over the per-frame TE grid. */
  private static int[] argmaxCos(float[] p, int base, int[] lo, float[] up, float[] norm) {
    int best = 0;
    float bestCos = Float.NEGATIVE_INFINITY;
    for (int k = 0; k < lo.length; k++) {
      float dot = (1 - up[k]) * p[base + lo[k]] + up[k] * p[base + lo[k] + 1];
      float cos = dot / norm[k];
      if (cos > bestCos) {
        bestCos = cos;
        best = k;
      }
    }
    return new int[] {best, Float.floatToRawIntBits(bestCos)};
  }

  private static float sigmoid(float x) {
    return (float) (1 / (1 + Math.exp(-x)));
  }

  /**
   * Writes a checkpoint directory (created if needed): config, parameters, metadata. Afterwards
   * {@link #metadata()} is {@code meta} and {@link #modelId()} the id of the saved weights.
   */
  public void save(Path dir, CheckpointMetadata meta) {
    try {
      Files.createDirectories(dir);
      byte[] params = paramBytes();
      cfg.write(dir.resolve(CONFIG_FILE));
      Path tmp = dir.resolve(PARAMS_FILE + ".tmp");
      Files.write(tmp, params);
      Files.move(tmp, dir.resolve(PARAMS_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      meta.write(dir.resolve(CheckpointMetadata.FILE_NAME));
      metadata = meta;
      modelId = idOf(params);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private byte[] paramBytes() {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        block.saveParameters(out);
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String computeModelId() {
    return idOf(paramBytes());
  }

  private static String idOf(byte[] params) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(params);
      return "laviti-" + HexFormat.of().formatHex(h).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
