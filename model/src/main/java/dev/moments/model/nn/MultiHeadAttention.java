package dev.moments.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Scaled dot-product multi-head attention with separate query/key/value/output projections.
 * Inputs: {@code query [B, Nq, D]}, {@code keyValue [B, Nk, D]} and optionally an additive key
 * mask {@code [B, 1, 1, Nk]} (0 for real keys, a large negative number for padding). Output:
 * {@code [B, Nq, D]}.
 */
public final class MultiHeadAttention extends AbstractBlock {
  private final int dModel;
  private final int heads;
  private final Linear q;
  private final Linear k;
  private final Linear v;
  private final Linear o;

  public MultiHeadAttention(int dModel, int heads) {
    this.dModel = dModel;
    this.heads = heads;
    q = addChildBlock("q", Linear.builder().setUnits(dModel).build());
    k = addChildBlock("k", Linear.builder().setUnits(dModel).build());
    v = addChildBlock("v", Linear.builder().setUnits(dModel).build());
    o = addChildBlock("o", Linear.builder().setUnits(dModel).build());
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape in = new Shape(1, 1, dModel);
    for (Linear l : new Linear[] {q, k, v, o}) {
      l.initialize(manager, dataType, in);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray query = inputs.get(0);
    NDArray kv = inputs.get(1);
    long b = query.getShape().get(0);
    long nq = query.getShape().get(1);
    long nk = kv.getShape().get(1);
    int dh = dModel / heads;
    // project and split heads: [B, N, D] -> [B, H, N, dh]
    // the 1/sqrt(dh) scale goes on the queries [B, Nq, D], not on the scores [B, H, Nq, Nk]: a
    // pass over a tensor Nk/dh times smaller (8x for a 600 s window), forward and backward; for a
    // power-of-two dh (the paper's 64) the scale is a power of two and the scores are bit-equal
    NDArray qs = q.forward(ps, new NDList(query), training).singletonOrThrow().mul((float) (1.0 / Math.sqrt(dh)));
    NDArray qh = split(qs, b, nq, dh);
    NDArray kh = split(k.forward(ps, new NDList(kv), training).singletonOrThrow(), b, nk, dh);
    NDArray vh = split(v.forward(ps, new NDList(kv), training).singletonOrThrow(), b, nk, dh);
    // scaled scores [B, H, Nq, Nk], masked keys pushed to -inf-ish
    NDArray scores = qh.matMul(kh.transpose(0, 1, 3, 2));
    if (inputs.size() > 2) {
      scores = scores.add(inputs.get(2));
    }
    // attention-weighted values, heads merged back: [B, Nq, D]
    NDArray out = scores.softmax(-1).matMul(vh).transpose(0, 2, 1, 3).reshape(b, nq, dModel);
    return o.forward(ps, new NDList(out), training);
  }

  private NDArray split(NDArray x, long b, long n, int dh) {
    return x.reshape(b, n, heads, dh).transpose(0, 2, 1, 3);
  }
}
