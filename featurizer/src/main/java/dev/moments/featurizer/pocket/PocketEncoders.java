package dev.moments.featurizer.pocket;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.moments.featurizer.encoder.ImageEncoder;
import dev.moments.featurizer.encoder.TextEncoder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Saves and loads the pocket encoder pair (the project's own small encoders, trained on the
 * synthetic world) behind the same {@link ImageEncoder}/{@link TextEncoder} interfaces as a real
 * CLIP export. A saved pair is a folder with {@code encoder.json} ({@code "format": "pocket"}),
 * {@code vocab.txt} and {@code pocket-0000.params}.
 *
 * <p>NOTE: each tower owns its own copy of the (small) weights, so the two close independently;
 * {@code encode} is synchronized per encoder (one batch at a time, libtorch parallelizes inside).
 */
public final class PocketEncoders {
  /** Images per forward pass at inference. */
  static final int BATCH = 64;

  private PocketEncoders() {}

  /** Both towers of a saved pair; closing it closes both. */
  public record Pair(ImageEncoder image, TextEncoder text) implements AutoCloseable {
    @Override
    public void close() {
      image.close();
      text.close();
    }
  }

  /**
   * Loads both towers from {@code dir}.
   *
   * @throws IllegalArgumentException when {@code encoder.json}, the vocabulary or the parameters
   *     are missing or not a pocket encoder
   */
  public static Pair load(Path dir) {
    Image image = new Image(dir);
    try {
      return new Pair(image, new Text(dir));
    } catch (RuntimeException e) {
      image.close();
      throw e;
    }
  }

  /**
   * Writes a trained pair to {@code dir}: {@code encoder.json}, {@code vocab.txt} and the block's
   * parameters.
   */
  public static void save(Path dir, PocketConfig config, PocketVocab vocab, Model model) throws IOException {
    if (!(model.getBlock() instanceof PocketNet)) {
      throw new IllegalArgumentException("model block is not a PocketNet: " + model.getBlock());
    }
    Files.createDirectories(dir);
    model.save(dir, PocketConfig.PARAMS_PREFIX);
    vocab.write(dir.resolve(PocketConfig.VOCAB_FILE));
    config.write(dir);
  }

  /** A new, initialized (untrained) pair in a fresh model on the CPU. */
  public static Model newModel(PocketConfig config, PocketVocab vocab) {
    Model model = Model.newInstance(config.id(), Device.cpu(), "PyTorch");
    PocketNet net = new PocketNet(config);
    model.setBlock(net);
    net.initialize(model.getNDManager(), DataType.FLOAT32,
        new Shape(1, 3, config.imageSize(), config.imageSize()), new Shape(1, vocab.size()));
    return model;
  }

  /** Loads the model saved in {@code dir} (config and vocabulary already read). */
  static Model loadModel(Path dir, PocketConfig config, PocketVocab vocab) {
    Path params = dir.resolve(PocketConfig.PARAMS_PREFIX + "-0000.params");
    if (!Files.isRegularFile(params)) {
      throw new IllegalArgumentException("no parameter file " + params);
    }
    Model model = newModel(config, vocab);
    try {
      model.load(dir, PocketConfig.PARAMS_PREFIX);
      return model;
    } catch (IOException e) {
      model.close();
      throw new UncheckedIOException("cannot read " + params, e);
    } catch (MalformedModelException e) {
      model.close();
      throw new IllegalStateException("corrupt pocket parameters " + params + ": " + e.getMessage(), e);
    }
  }

  private static PocketConfig config(Path dir) {
    try {
      return PocketConfig.read(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(PocketConfig.FILE_NAME), e);
    }
  }

  private static PocketVocab vocab(Path dir) {
    try {
      return PocketVocab.read(dir.resolve(PocketConfig.VOCAB_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(PocketConfig.VOCAB_FILE), e);
    }
  }

  private static float[][] rows(NDArray x) {
    int n = (int) x.getShape().get(0);
    int d = (int) x.getShape().get(1);
    float[] flat = x.toFloatArray();
    float[][] out = new float[n][d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(flat, i * d, out[i], 0, d);
    }
    return out;
  }

  /** The pocket image tower. */
  public static final class Image implements ImageEncoder {
    private final PocketConfig config;
    private final Model model;
    private final PocketNet net;

    public Image(Path dir) {
      this.config = config(dir);
      this.model = loadModel(dir, config, vocab(dir));
      this.net = (PocketNet) model.getBlock();
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
    public synchronized float[][] encode(List<BufferedImage> images) {
      List<float[]> out = new ArrayList<>(images.size());
      for (int from = 0; from < images.size(); from += BATCH) {
        List<byte[]> chunk = new ArrayList<>();
        for (BufferedImage img : images.subList(from, Math.min(images.size(), from + BATCH))) {
          chunk.add(PocketImages.resize(img, config.imageSize()));
        }
        try (NDManager m = model.getNDManager().newSubManager()) {
          NDArray x = PocketImages.batch(m, chunk, config.imageSize());
          out.addAll(List.of(rows(net.encodeImages(new ParameterStore(m, false), x, false))));
        }
      }
      return out.toArray(new float[0][]);
    }

    @Override
    public synchronized void close() {
      model.close();
    }
  }

  /** The pocket text tower. */
  public static final class Text implements TextEncoder {
    private final PocketConfig config;
    private final PocketVocab vocab;
    private final Model model;
    private final PocketNet net;

    public Text(Path dir) {
      this.config = config(dir);
      this.vocab = vocab(dir);
      this.model = loadModel(dir, config, vocab);
      this.net = (PocketNet) model.getBlock();
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
    public synchronized float[][] encode(List<String> texts) {
      if (texts.isEmpty()) {
        return new float[0][];
      }
      float[] bags = new float[texts.size() * vocab.size()];
      for (int i = 0; i < texts.size(); i++) {
        System.arraycopy(vocab.bag(texts.get(i), config.contextLength()), 0, bags, i * vocab.size(), vocab.size());
      }
      try (NDManager m = model.getNDManager().newSubManager()) {
        NDArray x = m.create(bags, new Shape(texts.size(), vocab.size()));
        return rows(net.encodeTexts(new ParameterStore(m, false), x, false));
      }
    }

    @Override
    public synchronized void close() {
      model.close();
    }
  }
}
