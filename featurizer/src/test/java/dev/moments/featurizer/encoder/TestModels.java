package dev.moments.featurizer.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/** The bundled tiny encoder and the values {@code scripts/make_test_models.py} computed for it. */
public final class TestModels {
  private TestModels() {}

  public static Path torchscriptDir() {
    return Encoders.defaultDir();
  }

  public static Path onnxDir() {
    return Encoders.defaultDir().resolve("onnx");
  }

  public static JsonNode expected() throws IOException {
    return new ObjectMapper().readTree(Encoders.defaultDir().resolve("expected.json").toFile());
  }

  /** The same 96x72 pixels as {@code test_image(index)} in the script. */
  public static BufferedImage testImage(int index) {
    int w = 96;
    int h = 72;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r;
        int g;
        int b;
        if (index == 0) {
          r = (x * 5 + y * 3) % 256;
          g = (x * y) % 256;
          b = Math.floorMod(255 - x * 2, 256);
        } else {
          boolean inside = x >= 30 && x < 60 && y >= 20 && y < 50;
          r = inside ? 200 : (y * 7) % 256;
          g = inside ? 40 : 180;
          b = inside ? 40 : (x * 11) % 256;
        }
        img.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return img;
  }

  public static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) array.get(i).asDouble();
    }
    return out;
  }

  public static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  public static double maxAbsDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  public static double norm(float[] a) {
    double s = 0;
    for (float v : a) {
      s += v * v;
    }
    return Math.sqrt(s);
  }
}
