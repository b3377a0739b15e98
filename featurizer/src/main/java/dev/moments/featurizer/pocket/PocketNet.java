package dev.moments.featurizer.pocket;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;

/**
 * The pocket encoder pair as one DJL block, trained SigLIP-style: an image tower (3x3 conv +
 * ReLU layers with 2x2 max pooling between them, then global average and max pooling
 * concatenated, then a linear projection), a text tower (mean-pooled word embeddings, computed as
 * a bag-of-words vector times the embedding table, then a one-hidden-layer MLP), and the
 * learnable SigLIP temperature and bias.
 *
 * <p>Input: {@code [images [B,3,S,S], bags [B',V]]}; output: {@code [image embeddings [B,D],
 * text embeddings [B',D], logits [B,B']]}, embeddings L2-normalized and
 * {@code logits = exp(logit_scale) * cos + logit_bias}.
 */
public final class PocketNet extends AbstractBlock {
  private static final byte VERSION = 1;

  private final Block image;
  private final Block text;
  private final Parameter logitScale;
  private final Parameter logitBias;

  public PocketNet(PocketConfig config) {
    super(VERSION);
    image = addChildBlock("image", imageTower(config));
    text = addChildBlock("text", textTower(config));
    // SigLIP's initialization: t' = log 10, b = -10
    logitScale = addParameter(Parameter.builder().setName("logit_scale").setType(Parameter.Type.OTHER)
        .optShape(new Shape(1)).optInitializer(new ConstantInitializer((float) Math.log(10))).build());
    logitBias = addParameter(Parameter.builder().setName("logit_bias").setType(Parameter.Type.OTHER)
        .optShape(new Shape(1)).optInitializer(new ConstantInitializer(-10f)).build());
  }

  private static Block imageTower(PocketConfig c) {
    SequentialBlock b = new SequentialBlock();
    int[] ch = c.channels();
    for (int i = 0; i < ch.length; i++) {
      b.add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(ch[i]).build());
      b.add(Activation.reluBlock());
      if (i < ch.length - 1) {
        b.add(Pool.maxPool2dBlock(new Shape(2, 2)));
      }
    }
    // global average and max pooling: "how much" and "anywhere at all" (small items)
    b.add(new LambdaBlock(x -> {
      NDArray f = x.singletonOrThrow();
      NDArray flat = f.reshape(f.getShape().get(0), f.getShape().get(1), -1); // [B, C, H*W]
      return new NDList(NDArrays.concat(new NDList(flat.mean(new int[] {2}), flat.max(new int[] {2})), 1));
    }, "global_pool"));
    b.add(Linear.builder().setUnits(c.dim()).build());
    return b;
  }

  private static Block textTower(PocketConfig c) {
    return new SequentialBlock()
        .add(Linear.builder().setUnits(c.textWidth()).optBias(false).build()) // the embedding table
        .add(Linear.builder().setUnits(c.textWidth()).build())
        .add(Activation.reluBlock())
        .add(Linear.builder().setUnits(c.dim()).build());
  }

  /** L2-normalized image embeddings of a preprocessed batch {@code [B,3,S,S]}. */
  public NDArray encodeImages(ParameterStore ps, NDArray images, boolean training) {
    return normalize(image.forward(ps, new NDList(images), training).singletonOrThrow());
  }

  /** L2-normalized text embeddings of bag-of-words vectors {@code [B,V]}. */
  public NDArray encodeTexts(ParameterStore ps, NDArray bags, boolean training) {
    return normalize(text.forward(ps, new NDList(bags), training).singletonOrThrow());
  }

  private static NDArray normalize(NDArray x) {
    return x.div(x.norm(new int[] {1}, true).maximum(1e-12f));
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray img = encodeImages(ps, inputs.get(0), training);
    NDArray txt = encodeTexts(ps, inputs.get(1), training);
    NDArray scale = ps.getValue(logitScale, img.getDevice(), training).exp();
    NDArray bias = ps.getValue(logitBias, img.getDevice(), training);
    // logits[i][j] = exp(t') * <img_i, txt_j> + b
    NDArray logits = img.matMul(txt.transpose()).mul(scale).add(bias);
    return new NDList(img, txt, logits);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    long dim = image.getOutputShapes(new Shape[] {inputShapes[0]})[0].get(1);
    long b = inputShapes[0].get(0);
    long b2 = inputShapes[1].get(0);
    return new Shape[] {new Shape(b, dim), new Shape(b2, dim), new Shape(b, b2)};
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    image.initialize(manager, dataType, inputShapes[0]);
    text.initialize(manager, dataType, inputShapes[1]);
  }

  /** The current temperature {@code exp(t')} and bias {@code b}, for logs. */
  public float[] temperatureAndBias() {
    return new float[] {(float) Math.exp(logitScale.getArray().getFloat(0)), logitBias.getArray().getFloat(0)};
  }
}
