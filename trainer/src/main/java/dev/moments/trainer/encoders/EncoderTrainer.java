package dev.moments.trainer.encoders;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moments.featurizer.pocket.PocketConfig;
import dev.moments.featurizer.pocket.PocketEncoders;
import dev.moments.featurizer.pocket.PocketImages;
import dev.moments.featurizer.pocket.PocketNet;
import dev.moments.featurizer.pocket.PocketVocab;
import dev.moments.trainer.encoders.NarrationTexts.Narration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Trains the pocket encoder pair contrastively with the SigLIP sigmoid loss (learnable
 * temperature and bias) on (frame, text) pairs: for every narration, frames within
 * {@code window} seconds of its time, and its cleaned text or one of its question paraphrases.
 * Two pairs count as positive when the text of one is among the texts of the other's narration
 * (so repeated narrations such as "C looks around" are not pushed apart). Adam with a short
 * warm-up and cosine decay; the result is saved with {@link PocketEncoders#save}.
 */
public final class EncoderTrainer {
  /** Frames per second kept from each video. */
  static final double MAX_FPS = 6;

  private EncoderTrainer() {}

  /**
   * What to train.
   *
   * @param videos folder with {@code {video_uid}.mp4}
   * @param narrations an Ego4D {@code narration.json}; videos without an mp4 are skipped
   * @param out output folder of the encoder pair
   * @param steps optimizer steps
   * @param dim embedding dimension
   * @param seed seed of initialization and sampling
   * @param batch pairs per step
   * @param lr peak learning rate
   * @param window seconds around a narration from which its frames are drawn
   */
  public record Options(
      Path videos, Path narrations, Path out, int steps, int dim, long seed, int batch, double lr, double window) {
    public Options {
      if (steps < 1) {
        throw new IllegalArgumentException("steps must be >= 1, got " + steps);
      }
      if (dim < 2) {
        throw new IllegalArgumentException("dim must be >= 2, got " + dim);
      }
      if (batch < 2) {
        throw new IllegalArgumentException("batch must be >= 2, got " + batch);
      }
      if (!(lr > 0)) {
        throw new IllegalArgumentException("lr must be > 0, got " + lr);
      }
    }

    /** The defaults of {@code train encoders}: batch 64, lr 3e-3, window 1 s. */
    public static Options of(Path videos, Path narrations, Path out, int steps, int dim, long seed) {
      return new Options(videos, narrations, out, steps, dim, seed, 64, 3e-3, 1.0);
    }
  }

  /**
   * What came out.
   *
   * @param losses the SigLIP loss of every step (per pair, summed over the row)
   */
  public record Result(
      int videos, int narrations, int texts, int vocabulary, int frames, double[] losses, double seconds,
      float temperature, float bias) {
    /** Mean loss of the first {@code n} steps. */
    public double firstLoss(int n) {
      return mean(0, Math.min(n, losses.length));
    }

    /** Mean loss of the last {@code n} steps. */
    public double lastLoss(int n) {
      return mean(Math.max(0, losses.length - n), losses.length);
    }

    private double mean(int from, int to) {
      double s = 0;
      for (int i = from; i < to; i++) {
        s += losses[i];
      }
      return s / Math.max(1, to - from);
    }
  }

  /** One training example: a narrated moment's frames and the texts that describe it. */
  private record Sample(VideoFrames video, int[] frames, List<String> texts) {}

  /**
   * Trains and saves an encoder pair.
   *
   * @throws IllegalArgumentException when no narrated video is found in {@code videos}
   */
  public static Result train(Options o, Consumer<String> log) throws IOException {
    long t0 = System.nanoTime();
    Map<String, List<Narration>> narrations = NarrationTexts.read(o.narrations());
    PocketConfig config = PocketConfig.defaults("moments-pocket-d" + o.dim() + "-s" + o.seed(), o.dim());
    List<Sample> samples = new ArrayList<>();
    Set<String> allTexts = new LinkedHashSet<>();
    int videos = 0;
    int frames = 0;
    for (Map.Entry<String, List<Narration>> e : narrations.entrySet()) {
      Path mp4 = o.videos().resolve(e.getKey() + ".mp4");
      if (!Files.isRegularFile(mp4)) {
        continue;
      }
      VideoFrames vf = VideoFrames.decode(e.getKey(), mp4, config.imageSize(), MAX_FPS);
      if (vf.timesSec().length == 0) {
        continue;
      }
      videos++;
      frames += vf.timesSec().length;
      for (Narration n : e.getValue()) {
        int[] idx = vf.between(n.timeSec() - o.window(), n.timeSec() + o.window());
        if (idx.length == 0) {
          continue;
        }
        List<String> texts = List.copyOf(NarrationTexts.textsFor(n.text()));
        allTexts.addAll(texts);
        samples.add(new Sample(vf, idx, texts));
      }
    }
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("no narrated frames: none of the " + narrations.size()
          + " videos of " + o.narrations() + " has an mp4 with frames in " + o.videos());
    }
    PocketVocab vocab = PocketVocab.build(allTexts);
    log.accept(String.format("encoders: %d videos, %d frames, %d narrations, %d distinct texts, %d words",
        videos, frames, samples.size(), allTexts.size(), vocab.size()));

    Engine.getEngine("PyTorch").setRandomSeed((int) o.seed());
    Random rng = new Random(o.seed());
    double[] losses = new double[o.steps()];
    int batch = Math.min(o.batch(), samples.size());
    int warmup = Math.max(1, Math.min(50, o.steps() / 10));
    Tracker schedule = step -> (float) (step < warmup
        ? o.lr() * (step + 1) / warmup
        : o.lr() * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * (step - warmup) / Math.max(1, o.steps() - warmup)))));
    Optimizer adam = Optimizer.adam().optLearningRateTracker(schedule).build();
    float[] tb;
    try (Model model = PocketEncoders.newModel(config, vocab)) {
      PocketNet net = (PocketNet) model.getBlock();
      ParameterStore ps = new ParameterStore(model.getNDManager(), false);
      for (int step = 0; step < o.steps(); step++) {
        losses[step] = step(model, net, ps, adam, samples, vocab, config, batch, rng);
        if ((step + 1) % 25 == 0 || step == o.steps() - 1) {
          float[] cur = net.temperatureAndBias();
          log.accept(String.format("step %d/%d  loss %.4f  temperature %.2f  bias %.2f", step + 1, o.steps(),
              losses[step], cur[0], cur[1]));
        }
      }
      tb = net.temperatureAndBias();
      PocketEncoders.save(o.out(), config, vocab, model);
    }
    Result r = new Result(videos, samples.size(), allTexts.size(), vocab.size(), frames, losses,
        (System.nanoTime() - t0) / 1e9, tb[0], tb[1]);
    writeReport(o, r);
    return r;
  }

  /** One SigLIP step on a random batch; returns its loss. */
  private static double step(Model model, PocketNet net, ParameterStore ps, Optimizer adam, List<Sample> samples,
      PocketVocab vocab, PocketConfig config, int batch, Random rng) {
    // B distinct narrated moments, a random frame and a random describing text of each
    List<Sample> picked = new ArrayList<>();
    Set<Integer> used = new java.util.HashSet<>();
    while (picked.size() < batch) {
      int i = rng.nextInt(samples.size());
      if (used.add(i)) {
        picked.add(samples.get(i));
      }
    }
    List<byte[]> images = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (Sample s : picked) {
      images.add(s.video().images().get(s.frames()[rng.nextInt(s.frames().length)]));
      texts.add(s.texts().get(rng.nextInt(s.texts().size())));
    }
    float[] bags = new float[batch * vocab.size()];
    float[] labels = new float[batch * batch];
    for (int j = 0; j < batch; j++) {
      System.arraycopy(vocab.bag(texts.get(j), config.contextLength()), 0, bags, j * vocab.size(), vocab.size());
    }
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < batch; j++) {
        labels[i * batch + j] = picked.get(i).texts().contains(texts.get(j)) ? 1f : -1f;
      }
    }
    try (NDManager m = model.getNDManager().newSubManager()) {
      NDArray x = PocketImages.batch(m, images, config.imageSize());
      NDArray b = m.create(bags, new Shape(batch, vocab.size()));
      NDArray z = m.create(labels, new Shape(batch, batch));
      NDArray loss;
      try (GradientCollector gc = m.getEngine().newGradientCollector()) {
        NDArray logits = net.forward(ps, new NDList(x, b), true).get(2);
        // SigLIP: -(1/B) sum_ij log sigmoid(z_ij * logits_ij) = (1/B) sum_ij softplus(-z_ij * logits_ij)
        loss = Activation.softPlus(logits.mul(z).neg()).sum().div(batch);
        gc.backward(loss);
      }
      for (Pair<String, Parameter> p : net.getParameters()) {
        NDArray w = p.getValue().getArray();
        if (!w.hasGradient()) {
          continue;
        }
        try (NDArray g = w.getGradient()) {
          adam.update(p.getValue().getId(), w, g);
          g.subi(g); // gradients accumulate in libtorch; zero them for the next step
        }
      }
      return loss.getFloat();
    }
  }

  private static void writeReport(Options o, Result r) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode n = json.createObjectNode();
    n.put("videos", r.videos());
    n.put("narrations", r.narrations());
    n.put("texts", r.texts());
    n.put("vocabulary", r.vocabulary());
    n.put("frames", r.frames());
    n.put("steps", o.steps());
    n.put("batch", o.batch());
    n.put("lr", o.lr());
    n.put("seed", o.seed());
    n.put("seconds", r.seconds());
    n.put("temperature", r.temperature());
    n.put("bias", r.bias());
    var arr = n.putArray("losses");
    for (double l : r.losses()) {
      arr.add(Math.round(l * 1e5) / 1e5);
    }
    json.writeValue(o.out().resolve("training.json").toFile(), n);
  }
}
