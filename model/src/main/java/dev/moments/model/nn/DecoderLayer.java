package dev.moments.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A pre-norm DETR decoder layer: {@code q += SelfAttn(LN(q)); q += CrossAttn(LN(q), memory);
 * q += FFN(LN(q))}. Inputs: queries {@code [B, M, D]}, encoder memory {@code [B, N, D]} and an
 * optional additive memory key mask {@code [B, 1, 1, N]}.
 */
public final class DecoderLayer extends AbstractBlock {
  private final int dModel;
  private final LayerNorm norm1;
  private final MultiHeadAttention selfAttn;
  private final LayerNorm norm2;
  private final MultiHeadAttention crossAttn;
  private final LayerNorm norm3;
  private final FeedForward ffn;

  public DecoderLayer(int dModel, int heads, int ffnDim) {
    this.dModel = dModel;
    norm1 = addChildBlock("norm1", LayerNorm.builder().axis(2).build());
    selfAttn = addChildBlock("selfAttn", new MultiHeadAttention(dModel, heads));
    norm2 = addChildBlock("norm2", LayerNorm.builder().axis(2).build());
    crossAttn = addChildBlock("crossAttn", new MultiHeadAttention(dModel, heads));
    norm3 = addChildBlock("norm3", LayerNorm.builder().axis(2).build());
    ffn = addChildBlock("ffn", new FeedForward(dModel, ffnDim, dModel));
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = new Shape(1, 1, dModel);
    norm1.initialize(manager, dataType, x);
    selfAttn.initialize(manager, dataType, x, x);
    norm2.initialize(manager, dataType, x);
    crossAttn.initialize(manager, dataType, x, x);
    norm3.initialize(manager, dataType, x);
    ffn.initialize(manager, dataType, x);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray q = inputs.get(0);
    NDArray memory = inputs.get(1);
    // self-attention among the moment queries
    NDArray h = norm1.forward(ps, new NDList(q), training).singletonOrThrow();
    q = q.add(selfAttn.forward(ps, new NDList(h, h), training).singletonOrThrow());
    // cross-attention to the encoder output (padding keys masked)
    h = norm2.forward(ps, new NDList(q), training).singletonOrThrow();
    NDList crossIn = inputs.size() > 2 ? new NDList(h, memory, inputs.get(2)) : new NDList(h, memory);
    q = q.add(crossAttn.forward(ps, crossIn, training).singletonOrThrow());
    // feed-forward
    h = norm3.forward(ps, new NDList(q), training).singletonOrThrow();
    return new NDList(q.add(ffn.forward(ps, new NDList(h), training).singletonOrThrow()));
  }
}
