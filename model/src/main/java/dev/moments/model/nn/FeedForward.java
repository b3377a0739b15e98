package dev.moments.model.nn;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Two linear layers with a ReLU between: {@code [.., in] -> [.., hidden] -> [.., out]}. */
public final class FeedForward extends AbstractBlock {
  private final int in;
  private final int hidden;
  private final int out;
  private final Linear fc1;
  private final Linear fc2;

  public FeedForward(int in, int hidden, int out) {
    this.in = in;
    this.hidden = hidden;
    this.out = out;
    fc1 = addChildBlock("fc1", Linear.builder().setUnits(hidden).build());
    fc2 = addChildBlock("fc2", Linear.builder().setUnits(out).build());
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    fc1.initialize(manager, dataType, new Shape(1, 1, in));
    fc2.initialize(manager, dataType, new Shape(1, 1, hidden));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    return new Shape[] {s.slice(0, s.dimension() - 1).add(out)};
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    // linear -> relu -> linear
    NDList h = fc1.forward(ps, inputs, training);
    return fc2.forward(ps, new NDList(Activation.relu(h.singletonOrThrow())), training);
  }
}
