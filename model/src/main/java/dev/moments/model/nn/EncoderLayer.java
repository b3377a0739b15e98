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
 * A pre-norm transformer encoder layer (LayerNorm, not DJL's BatchNorm):
 * {@code x += SelfAttn(LN(x)); x += FFN(LN(x))}. Inputs: {@code x [B, N, D]} and an optional
 * additive key mask {@code [B, 1, 1, N]}.
 */
public final class EncoderLayer extends AbstractBlock {
  private final int dModel;
  private final LayerNorm norm1;
  private final MultiHeadAttention attn;
  private final LayerNorm norm2;
  private final FeedForward ffn;

  public EncoderLayer(int dModel, int heads, int ffnDim) {
    this.dModel = dModel;
    norm1 = addChildBlock("norm1", LayerNorm.builder().axis(2).build());
    attn = addChildBlock("attn", new MultiHeadAttention(dModel, heads));
    norm2 = addChildBlock("norm2", LayerNorm.builder().axis(2).build());
    ffn = addChildBlock("ffn", new FeedForward(dModel, ffnDim, dModel));
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape x = new Shape(1, 1, dModel);
    norm1.initialize(manager, dataType, x);
    attn.initialize(manager, dataType, x, x);
    norm2.initialize(manager, dataType, x);
    ffn.initialize(manager, dataType, x);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    // self-attention over the normalized tokens, residual
    NDArray h = norm1.forward(ps, new NDList(x), training).singletonOrThrow();
    NDList attnIn = inputs.size() > 1 ? new NDList(h, h, inputs.get(1)) : new NDList(h, h);
    x = x.add(attn.forward(ps, attnIn, training).singletonOrThrow());
    // feed-forward, residual
    h = norm2.forward(ps, new NDList(x), training).singletonOrThrow();
    return new NDList(x.add(ffn.forward(ps, new NDList(h), training).singletonOrThrow()));
  }
}
