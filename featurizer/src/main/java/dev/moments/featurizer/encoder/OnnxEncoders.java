package dev.moments.featurizer.encoder;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * CLIP towers stored as two ONNX files (for example the published DFN5B ViT-H-14 visual and
 * textual ONNX exports, or {@code torch.onnx.export} of each tower), run by ONNX Runtime's Java
 * API on the CPU.
 *
 * <p>Inputs are found by type: the image model's one float input takes {@code [N, 3, S, S]}; the
 * text model's integer input (int64 or int32) takes the token ids {@code [N, context_length]},
 * and an integer input whose name contains {@code mask} gets the attention mask. The output is
 * the one named {@code *embed*} when there is one, otherwise the first; it must be {@code [N,
 * dim]}. Outputs are L2-normalized here. Intra-op threads follow {@code ai.djl.pytorch.num_threads}
 * so that both engines use the same budget.
 */
final class OnnxEncoders {
  private OnnxEncoders() {}

  static OrtSession open(Path file) {
    Encoders.configureTorchThreads();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(Integer.getInteger(Encoders.THREADS_PROPERTY));
      opts.setInterOpNumThreads(1);
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      return env.createSession(file.toString(), opts);
    } catch (OrtException e) {
      throw new IllegalArgumentException(file + " is not a loadable ONNX model: " + e.getMessage(), e);
    }
  }

  static String outputName(OrtSession session) {
    for (String name : session.getOutputNames()) {
      if (name.toLowerCase(Locale.ROOT).contains("embed")) {
        return name;
      }
    }
    return session.getOutputNames().iterator().next();
  }

  static float[] run(OrtSession session, Map<String, OnnxTensor> inputs, String output, int n, int dim, Path file) {
    try (OrtSession.Result r = session.run(inputs)) {
      OnnxValue v = r.get(output).orElseThrow(() -> new IllegalStateException(file + " produced no " + output));
      if (!(v instanceof OnnxTensor t) || t.getInfo().type != OnnxJavaType.FLOAT) {
        throw new IllegalArgumentException(file + ": output " + output + " is not a float tensor");
      }
      long[] shape = t.getInfo().getShape();
      if (shape.length != 2 || shape[0] != n || shape[1] != dim) {
        throw new IllegalArgumentException(
            file + " returned shape " + java.util.Arrays.toString(shape) + ", expected [" + n + ", " + dim
                + "] (check \"dim\" in encoder.json)");
      }
      FloatBuffer fb = t.getFloatBuffer();
      float[] out = new float[fb.remaining()];
      fb.get(out);
      return out;
    } catch (OrtException e) {
      throw new IllegalStateException(file + ": inference failed: " + e.getMessage(), e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  private static TensorInfo tensorInfo(NodeInfo info, Path file) {
    if (!(info.getInfo() instanceof TensorInfo t)) {
      throw new IllegalArgumentException(file + ": input " + info.getName() + " is not a tensor");
    }
    return t;
  }

  /** The ONNX image tower. */
  static final class Image implements ImageEncoder {
    private final EncoderConfig config;
    private final ImagePreprocessor pre;
    private final OrtSession session;
    private final String input;
    private final String output;

    Image(EncoderConfig config) {
      this.config = config;
      this.pre = ImagePreprocessor.of(config);
      this.session = open(config.image());
      try {
        String in = null;
        for (NodeInfo info : session.getInputInfo().values()) {
          if (tensorInfo(info, config.image()).type == OnnxJavaType.FLOAT) {
            in = info.getName();
          }
        }
        if (in == null || session.getNumInputs() != 1) {
          throw new IllegalArgumentException(
              config.image() + ": expected one float image input, found " + session.getInputInfo().keySet());
        }
        this.input = in;
        this.output = outputName(session);
        encode(List.of(new BufferedImage(config.imageSize(), config.imageSize(), BufferedImage.TYPE_INT_RGB)));
      } catch (OrtException e) {
        close();
        throw new IllegalArgumentException(config.image() + ": cannot read inputs: " + e.getMessage(), e);
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
    public float[][] encode(List<BufferedImage> images) {
      if (images.isEmpty()) {
        return new float[0][];
      }
      int n = images.size();
      int s = pre.size();
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      try {
        OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(pre.batch(images)), new long[] {n, 3, s, s});
        float[] flat = run(session, new HashMap<>(Map.of(input, x)), output, n, config.dim(), config.image());
        return Vectors.normalizedRows(flat, n, config.dim());
      } catch (OrtException e) {
        throw new IllegalStateException("cannot create the input tensor: " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        session.close();
      } catch (OrtException e) {
        throw new IllegalStateException("cannot close " + config.image(), e);
      }
    }
  }

  /** The ONNX text tower. */
  static final class Text implements TextEncoder {
    private final EncoderConfig config;
    private final ClipTokenizer tokenizer;
    private final OrtSession session;
    private final String idsInput;
    private final OnnxJavaType idsType;
    private final String maskInput;
    private final OnnxJavaType maskType;
    private final String output;

    Text(EncoderConfig config) {
      if (config.text() == null) {
        throw new IllegalArgumentException(config.dir().resolve(EncoderConfig.FILE_NAME) + " names no \"text\" model");
      }
      this.config = config;
      this.tokenizer = new ClipTokenizer(config.tokenizer(), config.contextLength(), config.padId());
      OrtSession s;
      try {
        s = open(config.text());
      } catch (RuntimeException e) {
        tokenizer.close();
        throw e;
      }
      this.session = s;
      try {
        String ids = null;
        OnnxJavaType idsT = null;
        String mask = null;
        OnnxJavaType maskT = null;
        for (NodeInfo info : session.getInputInfo().values()) {
          OnnxJavaType t = tensorInfo(info, config.text()).type;
          if (t != OnnxJavaType.INT64 && t != OnnxJavaType.INT32) {
            throw new IllegalArgumentException(
                config.text() + ": input " + info.getName() + " has type " + t + ", expected int64 or int32 token ids");
          }
          if (info.getName().toLowerCase(Locale.ROOT).contains("mask")) {
            mask = info.getName();
            maskT = t;
          } else if (ids == null) {
            ids = info.getName();
            idsT = t;
          } else {
            throw new IllegalArgumentException(
                config.text() + ": more than one token-id input: " + session.getInputInfo().keySet());
          }
        }
        if (ids == null) {
          throw new IllegalArgumentException(config.text() + ": no token-id input");
        }
        this.idsInput = ids;
        this.idsType = idsT;
        this.maskInput = mask;
        this.maskType = maskT;
        this.output = outputName(session);
        encode(List.of(""));
      } catch (OrtException e) {
        close();
        throw new IllegalArgumentException(config.text() + ": cannot read inputs: " + e.getMessage(), e);
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
      long[] shape = {b.size(), b.contextLength()};
      Map<String, OnnxTensor> in = new HashMap<>();
      try {
        in.put(idsInput, tensor(b.ids(), shape, idsType));
        if (maskInput != null) {
          in.put(maskInput, tensor(b.mask(), shape, maskType));
        }
      } catch (OrtException e) {
        in.values().forEach(OnnxTensor::close);
        throw new IllegalStateException("cannot create the input tensor: " + e.getMessage(), e);
      }
      float[] flat = run(session, in, output, b.size(), config.dim(), config.text());
      return Vectors.normalizedRows(flat, b.size(), config.dim());
    }

    private static OnnxTensor tensor(long[] values, long[] shape, OnnxJavaType type) throws OrtException {
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      if (type == OnnxJavaType.INT64) {
        return OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape);
      }
      int[] ints = new int[values.length];
      for (int i = 0; i < ints.length; i++) {
        ints[i] = Math.toIntExact(values[i]);
      }
      return OnnxTensor.createTensor(env, IntBuffer.wrap(ints), shape);
    }

    @Override
    public void close() {
      try {
        if (session != null) {
          session.close();
        }
      } catch (OrtException e) {
        throw new IllegalStateException("cannot close " + config.text(), e);
      } finally {
        tokenizer.close();
      }
    }
  }
}
