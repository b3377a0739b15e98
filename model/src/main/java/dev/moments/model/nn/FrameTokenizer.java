package dev.moments.model.nn;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The LAVITI tokenizer (DESIGN §4: a 1-D conv with kernel = stride = k, C → D) as what it is
 * without overlap: every k consecutive frames are flattened into one vector and one linear layer
 * maps it to a token. Input {@code [B, T, C]}, output {@code [B, ⌊T/k⌋, D]}; like the conv, the
 * last {@code T mod k} frames are dropped (the model's inputs always hold a multiple of k).
 *
 * <p>Weight {@code [D, k·C]}, bias {@code [D]}: the reshape puts channel c of the token's frame
 * j at column {@code j·C + c}, so the weight is the conv's {@code [D, C, k]} weight with its last
 * two axes swapped ({@code W'[d, j·C + c] = W[d, c, j]}, {@link #fromConvLayout}).
 *
 * <p>NOTE: this replaces a DJL {@code Conv1d}: oneDNN 3.7.1's {@code jit:avx512_core} convolution
 * in libtorch 2.7.1 computes wrong numbers for batches of more than one window on AVX-512 CPUs
 * (Zen 4/5), while one GEMM is exact and faster. Checkpoints written with the conv still load:
 * {@link #loadParameters} accepts the conv's parameter record and converts its weight.
 */
public final class FrameTokenizer extends AbstractBlock {
  /** Parameter-format version of this block (DJL's {@code Convolution} wrote 3). */
  private static final byte VERSION = 2;

  private static final byte CONV_VERSION = 3;
  private final int featureDim;
  private final int kernel;
  private final int dModel;
  private final Parameter weight;
  private final Parameter bias;
  private boolean loadedLegacy;

  public FrameTokenizer(int featureDim, int kernel, int dModel) {
    super(VERSION);
    this.featureDim = featureDim;
    this.kernel = kernel;
    this.dModel = dModel;
    weight =
        addParameter(
            Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(dModel, (long) kernel * featureDim))
                .build());
    bias =
        addParameter(
            Parameter.builder().setName("bias").setType(Parameter.Type.BIAS).optShape(new Shape(dModel)).build());
  }

  /** The weight {@code [D, k·C]}. */
  public Parameter weight() {
    return weight;
  }

  /** Whether the last {@link #loadParameters} read a conv-format record (and converted it). */
  public boolean loadedLegacy() {
    return loadedLegacy;
  }

  /**
   * Converts a conv weight {@code [D][C][k]} (row-major, flattened) into this block's layout
   * {@code [D][k][C]} = {@code [D, k·C]}.
   */
  public static float[] fromConvLayout(float[] conv, int dModel, int featureDim, int kernel) {
    if (conv.length != dModel * featureDim * kernel) {
      throw new IllegalArgumentException(
          "conv weight has " + conv.length + " values, expected " + dModel + " x " + featureDim + " x " + kernel);
    }
    float[] w = new float[conv.length];
    for (int d = 0; d < dModel; d++) {
      for (int c = 0; c < featureDim; c++) {
        for (int j = 0; j < kernel; j++) {
          w[(d * kernel + j) * featureDim + c] = conv[(d * featureDim + c) * kernel + j];
        }
      }
    }
    return w;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    return new Shape[] {new Shape(s.get(0), s.get(1) / kernel, dModel)};
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray frames = inputs.singletonOrThrow();
    long b = frames.getShape().get(0);
    long n = frames.getShape().get(1) / kernel;
    if (n * kernel != frames.getShape().get(1)) {
      // what the stride-k conv did: the trailing T mod k frames make no token
      frames = frames.get(":, :{}, :", n * kernel);
    }
    // [B, N*k, C] -> [B, N, k*C]: token j's frames side by side, then one GEMM to [B, N, D]
    NDArray x = frames.reshape(b, n, (long) kernel * featureDim);
    NDArray w = ps.getValue(weight, frames.getDevice(), training);
    NDArray bs = ps.getValue(bias, frames.getDevice(), training);
    return Linear.linear(x, w, bs);
  }

  /**
   * Reads this block's parameters, or those a DJL {@code Conv1d} (kernel = stride = k) wrote,
   * converting its {@code [D, C, k]} weight to {@code [D, k·C]}.
   */
  @Override
  public void loadParameters(NDManager manager, DataInputStream is) throws IOException, MalformedModelException {
    byte v = is.readByte();
    if (v != VERSION && v != CONV_VERSION) {
      throw new MalformedModelException(
          "tokenizer: unsupported parameter version " + v + " (expected " + VERSION + ", or " + CONV_VERSION
              + " of a conv tokenizer)");
    }
    Shape[] ownShapes = inputShapes;
    readInputShapes(is);
    if (v == CONV_VERSION && ownShapes != null) {
      // the conv recorded [B, C, T]; keep this block's [B, T, C] so a re-save is the new format
      inputShapes = ownShapes;
    }
    weight.load(manager, is);
    bias.load(manager, is);
    Shape ws = weight.getArray().getShape();
    Shape expected = new Shape(dModel, (long) kernel * featureDim);
    loadedLegacy = ws.dimension() == 3;
    if (loadedLegacy && ws.equals(new Shape(dModel, featureDim, kernel))) {
      float[] converted = fromConvLayout(weight.getArray().toFloatArray(), dModel, featureDim, kernel);
      NDArray old = weight.getArray();
      NDArray array = manager.create(converted, expected);
      array.setName(old.getName());
      reload(manager, weight, array);
      old.close();
    } else if (!ws.equals(expected)) {
      throw new MalformedModelException("tokenizer weight has shape " + ws + ", expected " + expected
          + " (or the conv layout " + new Shape(dModel, featureDim, kernel) + ")");
    }
    if (!bias.getArray().getShape().equals(new Shape(dModel))) {
      throw new MalformedModelException("tokenizer bias has shape " + bias.getArray().getShape() + ", expected ("
          + dModel + ")");
    }
  }

  /** Replaces a loaded parameter's array through the parameter's own record format. */
  private static void reload(NDManager manager, Parameter p, NDArray array) throws IOException, MalformedModelException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeChar('P');
      out.writeByte(1);
      out.writeUTF(p.getName());
      out.write(array.encode());
    }
    array.close();
    p.load(manager, new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    // no children
  }
}
