package dev.moments.featurizer.encoder;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * CLIP image preprocessing as {@code encoder.json} describes it: RGB, bicubic resize (shortest
 * edge to {@code image_size} then centre crop, or both edges), scale to [0,1], per-channel
 * {@code (x - mean) / std}, NCHW float32.
 *
 * <p>The resize is PIL's {@code Image.resize(..., BICUBIC)} algorithm (separable convolution,
 * a = -0.5 cubic kernel widened by the downscale factor so that downscaling is antialiased,
 * horizontal pass then vertical pass, each rounded to 8 bits), which is what Hugging Face's
 * {@code CLIPImageProcessor} and OpenCLIP's torchvision transforms run on PIL images. The new
 * long edge is {@code floor(size * long / short)} and the crop offset {@code floor((n - size) /
 * 2)}, as in Hugging Face. NOTE: PIL computes with fixed-point weights, so single pixels can
 * differ from PIL by one 8-bit step.
 */
public final class ImagePreprocessor {
  private final int size;
  private final EncoderConfig.ResizeMode mode;
  private final float[] scale = new float[3];
  private final float[] shift = new float[3];

  public ImagePreprocessor(int size, EncoderConfig.ResizeMode mode, float[] mean, float[] std) {
    if (size <= 0) {
      throw new IllegalArgumentException("image size must be > 0, got " + size);
    }
    this.size = size;
    this.mode = mode;
    for (int c = 0; c < 3; c++) {
      scale[c] = 1f / (255f * std[c]);
      shift[c] = -mean[c] / std[c];
    }
  }

  public static ImagePreprocessor of(EncoderConfig config) {
    return new ImagePreprocessor(config.imageSize(), config.resize(), config.mean(), config.std());
  }

  public int size() {
    return size;
  }

  /** Preprocesses a batch into one NCHW float array of length {@code n * 3 * size * size}. */
  public float[] batch(List<BufferedImage> images) {
    int plane = size * size;
    float[] out = new float[images.size() * 3 * plane];
    for (int i = 0; i < images.size(); i++) {
      into(images.get(i), out, i * 3 * plane);
    }
    return out;
  }

  /** Preprocesses one image into {@code out[offset .. offset + 3 * size * size)} (CHW). */
  public void into(BufferedImage image, float[] out, int offset) {
    if (image == null) {
      throw new IllegalArgumentException("image is null");
    }
    int w = image.getWidth();
    int h = image.getHeight();
    int nw;
    int nh;
    if (mode == EncoderConfig.ResizeMode.SQUASH) {
      nw = size;
      nh = size;
    } else if (w <= h) {
      nw = size;
      nh = (int) ((long) size * h / w);
    } else {
      nw = (int) ((long) size * w / h);
      nh = size;
    }
    int left = (nw - size) / 2;
    int top = (nh - size) / 2;
    // Planes of 8-bit values as floats: [3][h][w].
    float[] src = planes(image, w, h);
    int p = w * h;
    // Horizontal pass: only the columns the crop keeps.
    Kernel kx = Kernel.bicubic(w, nw, left, size);
    float[] mid = new float[3 * h * size];
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < h; y++) {
        int row = c * p + y * w;
        int outRow = c * h * size + y * size;
        for (int x = 0; x < size; x++) {
          mid[outRow + x] = round8(kx.apply(src, row, 1, x));
        }
      }
    }
    // Vertical pass: only the rows the crop keeps, then normalize into out.
    Kernel ky = Kernel.bicubic(h, nh, top, size);
    int plane = size * size;
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          float v = round8(ky.apply(mid, c * h * size + x, size, y));
          out[offset + c * plane + y * size + x] = v * scale[c] + shift[c];
        }
      }
    }
  }

  /**
   * The image's R, G and B planes as floats {@code [3][h][w]}. The rasters ImageIO's JPEG reader
   * and the ingest make (3-byte BGR, int RGB/ARGB/BGR) are read directly; other types (grey too:
   * its getRGB converts linear grey to sRGB) go through {@link BufferedImage#getRGB}, whose per-pixel colour-model conversion took most of
   * the preprocessing time of a 640x360 JPEG (measured with bench featurize --pipeline).
   */
  static float[] planes(BufferedImage image, int w, int h) {
    int p = w * h;
    float[] src = new float[3 * p];
    java.awt.image.Raster raster = image.getRaster();
    java.awt.image.DataBuffer buf = raster.getDataBuffer();
    boolean plain = raster.getParent() == null && raster.getMinX() == 0 && raster.getMinY() == 0
        && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0
        && buf.getNumBanks() == 1 && buf.getOffset() == 0;
    int type = image.getType();
    if (plain && buf instanceof java.awt.image.DataBufferByte bb
        && raster.getSampleModel() instanceof java.awt.image.PixelInterleavedSampleModel sm
        && type == BufferedImage.TYPE_3BYTE_BGR) {
      byte[] d = bb.getData();
      int stride = sm.getScanlineStride();
      int ps = sm.getPixelStride();
      int[] band = sm.getBandOffsets(); // R, G, B
      for (int y = 0; y < h; y++) {
        int at = y * stride;
        int o = y * w;
        for (int x = 0; x < w; x++, at += ps, o++) {
          src[o] = d[at + band[0]] & 0xFF;
          src[p + o] = d[at + band[1]] & 0xFF;
          src[2 * p + o] = d[at + band[2]] & 0xFF;
        }
      }
      return src;
    }
    if (plain && buf instanceof java.awt.image.DataBufferInt bi
        && raster.getSampleModel() instanceof java.awt.image.SinglePixelPackedSampleModel sm
        && (type == BufferedImage.TYPE_INT_RGB || type == BufferedImage.TYPE_INT_ARGB
            || type == BufferedImage.TYPE_INT_BGR)) {
      int[] d = bi.getData();
      int stride = sm.getScanlineStride();
      boolean bgr = type == BufferedImage.TYPE_INT_BGR;
      for (int y = 0; y < h; y++) {
        int at = y * stride;
        int o = y * w;
        for (int x = 0; x < w; x++, at++, o++) {
          int v = d[at];
          int r = bgr ? v & 0xFF : (v >> 16) & 0xFF;
          int b = bgr ? (v >> 16) & 0xFF : v & 0xFF;
          src[o] = r;
          src[p + o] = (v >> 8) & 0xFF;
          src[2 * p + o] = b;
        }
      }
      return src;
    }
    int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
    for (int i = 0; i < p; i++) {
      int v = argb[i];
      src[i] = (v >> 16) & 0xFF;
      src[p + i] = (v >> 8) & 0xFF;
      src[2 * p + i] = v & 0xFF;
    }
    return src;
  }

  private static float round8(double v) {
    return v <= 0 ? 0 : v >= 255 ? 255 : (float) Math.floor(v + 0.5);
  }

  /** Precomputed PIL-style resampling weights for {@code count} outputs starting at {@code first}. */
  private record Kernel(int[] start, int[] len, double[][] weights) {
    static Kernel bicubic(int in, int out, int first, int count) {
      double scale = (double) in / out;
      double filterScale = Math.max(scale, 1.0);
      double support = 2.0 * filterScale;
      int[] start = new int[count];
      int[] len = new int[count];
      double[][] weights = new double[count][];
      for (int k = 0; k < count; k++) {
        double center = (first + k + 0.5) * scale;
        int min = Math.max((int) (center - support + 0.5), 0);
        int max = Math.min((int) (center + support + 0.5), in);
        double[] w = new double[max - min];
        double sum = 0;
        for (int j = 0; j < w.length; j++) {
          w[j] = cubic((j + min - center + 0.5) / filterScale);
          sum += w[j];
        }
        if (sum != 0) {
          for (int j = 0; j < w.length; j++) {
            w[j] /= sum;
          }
        }
        start[k] = min;
        len[k] = w.length;
        weights[k] = w;
      }
      return new Kernel(start, len, weights);
    }

    /** Weighted sum over {@code data[base + (start + j) * stride]} for output {@code k}. */
    double apply(float[] data, int base, int stride, int k) {
      double[] w = weights[k];
      int at = base + start[k] * stride;
      double s = 0;
      for (int j = 0; j < w.length; j++, at += stride) {
        s += w[j] * data[at];
      }
      return s;
    }

    private static double cubic(double x) {
      final double a = -0.5;
      x = Math.abs(x);
      if (x < 1.0) {
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      }
      if (x < 2.0) {
        return (((x - 5) * x + 8) * x - 4) * a;
      }
      return 0.0;
    }
  }
}
