package dev.moments.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import dev.moments.model.LavitiConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The LAVITI network (DESIGN §4) as one DJL block.
 *
 * <p>Inputs: frame features {@code [B, N*k, C]} (each window padded to a multiple of the kernel
 * k), TE interpolation weights {@code [B, N, L]} (row j interpolates the TE table at token j's
 * relative position; all-zero rows for padding tokens) and an optional additive key mask
 * {@code [B, 1, 1, N]} (0 real, -1e9 padding). Outputs: the L2-normalized visual/language
 * embeddings {@code [B, M, textDim]}, start TEs {@code [B, M, D]} and end TEs {@code [B, M,
 * D]}.
 *
 * <p>The block also owns the sigmoid-loss temperature ({@code logitScale}, stored as log t) and
 * bias ({@code logitBias}) so that they are saved with the checkpoint and inference can turn a
 * cosine similarity into a calibrated match probability.
 *
 * <p>The tokenizer is the paper's conv with kernel = stride = k written as a reshape and one
 * linear layer ({@link FrameTokenizer}).
 *
 * <p>NOTE: a LayerNorm on the tokens (before the TEs are added) is not in the paper; it
 * keeps the L2-normalized frame features (per-element scale ~1/sqrt(C)) from being drowned by
 * the unit-scale sinusoidal TEs at initialisation. Pre-norm layers, ReLU FFNs, no dropout.
 */
public final class LavitiBlock extends AbstractBlock {
  private final LavitiConfig cfg;
  private final FrameTokenizer tokenizer;
  private final LayerNorm tokenNorm;
  private final Parameter temporalEmbeddings;
  private final List<EncoderLayer> encoder = new ArrayList<>();
  private final LayerNorm encoderNorm;
  private final Parameter queries;
  private final List<DecoderLayer> decoder = new ArrayList<>();
  private final LayerNorm decoderNorm;
  private final FeedForward embeddingHead;
  private final FeedForward startHead;
  private final FeedForward endHead;
  private final Parameter logitScale;
  private final Parameter logitBias;

  public LavitiBlock(LavitiConfig cfg) {
    this.cfg = cfg;
    int d = cfg.dModel();
    tokenizer = addChildBlock("tokenizer", new FrameTokenizer(cfg.featureDim(), cfg.kernel(), d));
    tokenNorm = addChildBlock("tokenNorm", LayerNorm.builder().axis(2).build());
    temporalEmbeddings =
        addParameter(
            Parameter.builder()
                .setName("temporalEmbeddings")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(cfg.teLength(), d))
                .build());
    for (int i = 0; i < cfg.encoderLayers(); i++) {
      encoder.add(addChildBlock("encoder" + i, new EncoderLayer(d, cfg.heads(), cfg.ffnDim())));
    }
    encoderNorm = addChildBlock("encoderNorm", LayerNorm.builder().axis(2).build());
    queries =
        addParameter(
            Parameter.builder()
                .setName("queries")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(cfg.numQueries(), d))
                .build());
    for (int i = 0; i < cfg.decoderLayers(); i++) {
      decoder.add(addChildBlock("decoder" + i, new DecoderLayer(d, cfg.heads(), cfg.ffnDim())));
    }
    decoderNorm = addChildBlock("decoderNorm", LayerNorm.builder().axis(2).build());
    embeddingHead = addChildBlock("embeddingHead", new FeedForward(d, d, cfg.textDim()));
    startHead = addChildBlock("startHead", new FeedForward(d, d, d));
    endHead = addChildBlock("endHead", new FeedForward(d, d, d));
    logitScale =
        addParameter(
            Parameter.builder()
                .setName("logitScale")
                .setType(Parameter.Type.OTHER)
                .optShape(new Shape(1))
                .optInitializer(new ConstantInitializer((float) Math.log(10)))
                .build());
    logitBias =
        addParameter(
            Parameter.builder()
                .setName("logitBias")
                .setType(Parameter.Type.OTHER)
                .optShape(new Shape(1))
                .optInitializer(new ConstantInitializer(-10f))
                .build());
  }

  public LavitiConfig config() {
    return cfg;
  }

  /** The tokenizer (k frames -> one token). */
  public FrameTokenizer tokenizer() {
    return tokenizer;
  }

  /** The learnable TE table {@code [L, D]}. */
  public Parameter temporalEmbeddings() {
    return temporalEmbeddings;
  }

  /** The sigmoid-loss log temperature (init log 10). */
  public Parameter logitScale() {
    return logitScale;
  }

  /** The sigmoid-loss bias (init -10). */
  public Parameter logitBias() {
    return logitBias;
  }

  /** The moment queries {@code [M, D]}. */
  public Parameter queries() {
    return queries;
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = new Shape(1, 1, cfg.dModel());
    tokenizer.initialize(manager, dataType, new Shape(1, cfg.kernel(), cfg.featureDim()));
    tokenNorm.initialize(manager, dataType, x);
    for (EncoderLayer l : encoder) {
      l.initialize(manager, dataType, x);
    }
    encoderNorm.initialize(manager, dataType, x);
    for (DecoderLayer l : decoder) {
      l.initialize(manager, dataType, x, x);
    }
    decoderNorm.initialize(manager, dataType, x);
    embeddingHead.initialize(manager, dataType, x);
    startHead.initialize(manager, dataType, x);
    endHead.initialize(manager, dataType, x);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    long b = inputShapes[0].get(0);
    long m = cfg.numQueries();
    return new Shape[] {
      new Shape(b, m, cfg.textDim()), new Shape(b, m, cfg.dModel()), new Shape(b, m, cfg.dModel())
    };
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray frames = inputs.get(0);
    NDArray teWeights = inputs.get(1);
    NDArray mask = inputs.size() > 2 ? inputs.get(2) : null;
    long b = frames.getShape().get(0);
    // tokenizer: k frames per token, [B, N*k, C] -> [B, N, k*C] -> [B, N, D], normalized
    NDArray tokens = tokenizer.forward(ps, new NDList(frames), training).singletonOrThrow();
    tokens = tokenNorm.forward(ps, new NDList(tokens), training).singletonOrThrow();
    // add the TE table interpolated to the token positions: [B, N, L] x [L, D]
    NDArray te = ps.getValue(temporalEmbeddings, frames.getDevice(), training);
    NDArray x = tokens.add(teWeights.matMul(te));
    // transformer encoder
    for (EncoderLayer l : encoder) {
      x = l.forward(ps, mask == null ? new NDList(x) : new NDList(x, mask), training).singletonOrThrow();
    }
    NDArray memory = encoderNorm.forward(ps, new NDList(x), training).singletonOrThrow();
    // DETR decoder: the M learnable queries attend to each other and to the memory
    NDArray q = ps.getValue(queries, frames.getDevice(), training);
    q = q.expandDims(0).broadcast(new Shape(b, cfg.numQueries(), cfg.dModel()));
    for (DecoderLayer l : decoder) {
      NDList in = mask == null ? new NDList(q, memory) : new NDList(q, memory, mask);
      q = l.forward(ps, in, training).singletonOrThrow();
    }
    q = decoderNorm.forward(ps, new NDList(q), training).singletonOrThrow();
    // FFN heads, each L2-normalized
    NDArray v = l2(embeddingHead.forward(ps, new NDList(q), training).singletonOrThrow());
    NDArray s = l2(startHead.forward(ps, new NDList(q), training).singletonOrThrow());
    NDArray e = l2(endHead.forward(ps, new NDList(q), training).singletonOrThrow());
    return new NDList(v, s, e);
  }

  /** L2-normalizes the last axis. */
  public static NDArray l2(NDArray x) {
    return x.div(x.square().sum(new int[] {-1}, true).add(1e-12f).sqrt());
  }
}
