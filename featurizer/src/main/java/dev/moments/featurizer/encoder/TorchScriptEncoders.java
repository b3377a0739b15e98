package dev.moments.featurizer.encoder;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * CLIP towers stored as two TorchScript files ({@code torch.jit.trace} of the image and the text
 * tower) and run by DJL's PyTorch engine (libtorch). The image module takes one float32 tensor
 * {@code [N, 3, S, S]} and returns {@code [N, dim]}; the text module takes one int64 tensor
 * {@code [N, context_length]} and returns {@code [N, dim]}. Outputs are L2-normalized here.
 *
 * <p>Each batch runs in its own {@link NDManager} that is closed after the values are copied
 * out. libtorch's intra-op thread count comes from {@code ai.djl.pytorch.num_threads}, which
 * {@link Encoders} sets before the engine starts when the launcher has not.
 */
final class TorchScriptEncoders {
  private TorchScriptEncoders() {}

  /** Loads a TorchScript file as a DJL model on the engine's default device. */
  static Model load(String name, Path file) {
    Encoders.configureTorchThreads();
    Model model = Model.newInstance(name, "PyTorch");
    try {
      model.load(file);
      return model;
    } catch (MalformedModelException | RuntimeException e) {
      model.close();
      throw new IllegalArgumentException(file + " is not a loadable TorchScript module: " + e.getMessage(), e);
    } catch (IOException e) {
      model.close();
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Runs {@code block} on one input and returns the row-major output, checking {@code [n, dim]}. */
  static float[] forward(Model model, NDArray input, int n, int dim, String what) {
    Block block = model.getBlock();
    NDList out = block.forward(new ParameterStore(input.getManager(), false), new NDList(input), false);
    NDArray y = out.get(0);
    Shape s = y.getShape();
    if (s.dimension() != 2 || s.get(0) != n || s.get(1) != dim) {
      throw new IllegalArgumentException(
          what + " returned shape " + s + ", expected (" + n + ", " + dim + ") (check \"dim\" in encoder.json)");
    }
    return y.toFloatArray();
  }

  /** The TorchScript image tower. */
  static final class Image implements ImageEncoder {
    private final EncoderConfig config;
    private final ImagePreprocessor pre;
    private final Model model;

    Image(EncoderConfig config) {
      this.config = config;
      this.pre = ImagePreprocessor.of(config);
      this.model = load(config.id() + "-image", config.image());
      try {
        encode(List.of(new BufferedImage(config.imageSize(), config.imageSize(), BufferedImage.TYPE_INT_RGB)));
      } catch (RuntimeException e) {
        model.close();
        throw e;
      }
    }

    @Override
    public String id() {
      return config.id();
    }

    @Override
    public int dim() {
      return config.dim();
    }

    @Override
    public float[][] encode(List<BufferedImage> images) {
      if (images.isEmpty()) {
        return new float[0][];
      }
      int n = images.size();
      return Vectors.normalizedRows(forwardPixels(pre.batch(images), n), n, config.dim());
    }

    /** The model alone on already preprocessed NCHW pixels: raw {@code [n, dim]} row-major output. */
    float[] forwardPixels(float[] pixels, int n) {
      int s = pre.size();
      try (NDManager m = model.getNDManager().newSubManager()) {
        NDArray x = m.create(FloatBuffer.wrap(pixels), new Shape(n, 3, s, s));
        return forward(model, x, n, config.dim(), config.image().toString());
      }
    }

    @Override
    public void close() {
      model.close();
    }
  }

  /** The TorchScript text tower. */
  static final class Text implements TextEncoder {
    private final EncoderConfig config;
    private final ClipTokenizer tokenizer;
    private final Model model;

    Text(EncoderConfig config) {
      if (config.text() == null) {
        throw new IllegalArgumentException(config.dir().resolve(EncoderConfig.FILE_NAME) + " names no \"text\" model");
      }
      this.config = config;
      this.tokenizer = new ClipTokenizer(config.tokenizer(), config.contextLength(), config.padId());
      Model loaded;
      try {
        loaded = load(config.id() + "-text", config.text());
      } catch (RuntimeException e) {
        tokenizer.close();
        throw e;
      }
      this.model = loaded;
      try {
        encode(List.of(""));
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }

    @Override
    public String id() {
      return config.id();
    }

    @Override
    public int dim() {
      return config.dim();
    }

    @Override
    public float[][] encode(List<String> texts) {
      if (texts.isEmpty()) {
        return new float[0][];
      }
      ClipTokenizer.Batch b = tokenizer.batch(texts);
      try (NDManager m = model.getNDManager().newSubManager()) {
        NDArray x = m.create(LongBuffer.wrap(b.ids()), new Shape(b.size(), b.contextLength()));
        float[] flat = forward(model, x, b.size(), config.dim(), config.text().toString());
        return Vectors.normalizedRows(flat, b.size(), config.dim());
      }
    }

    @Override
    public void close() {
      model.close();
      tokenizer.close();
    }
  }
}
