package dev.moments.featurizer.encoder;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The parsed {@code encoder.json} that sits next to an encoder's model files and says how to run
 * them:
 *
 * <pre>
 * {"id": "clip-vit-b-32", "format": "torchscript" | "onnx" | "pocket",
 *  "image": "image.pt", "text": "text.pt", "dim": 512,
 *  "image_size": 224, "resize": "shortest-edge-center-crop" | "squash",
 *  "mean": [0.4815, 0.4578, 0.4082], "std": [0.2686, 0.2613, 0.2758],
 *  "context_length": 77, "tokenizer": "tokenizer.json", "pad_id": 0}
 * </pre>
 *
 * File names resolve against the directory of {@code encoder.json}. {@code text} and
 * {@code tokenizer} may be absent for an image-only export; {@code pad_id} defaults to 0 (OpenCLIP's
 * padding; harmless for Hugging Face CLIP too, whose causal text tower never looks past EOT).
 *
 * <p>Format {@code pocket} is the project's own small encoder pair ({@code
 * dev.moments.featurizer.pocket.PocketEncoders}, written by {@code PocketConfig}): its weights are
 * {@code <params>-0000.params} and its vocabulary is the {@code tokenizer} file, so it names no
 * {@code image}/{@code text} model files ({@link #image()} and {@link #text()} are null) and
 * always has both towers.
 */
public record EncoderConfig(
    Path dir,
    String id,
    Format format,
    Path image,
    Path text,
    int dim,
    int imageSize,
    ResizeMode resize,
    float[] mean,
    float[] std,
    int contextLength,
    Path tokenizer,
    long padId) {

  public static final String FILE_NAME = "encoder.json";

  /** How the model files are stored. */
  public enum Format {
    TORCHSCRIPT,
    ONNX,
    /** The pocket encoders: DJL parameters plus a word vocabulary, both towers in one net. */
    POCKET
  }

  /** How an image becomes an {@code image_size}² square. */
  public enum ResizeMode {
    /** Bicubic resize of the shortest edge to image_size, then a centre crop (CLIP's default). */
    SHORTEST_EDGE_CENTER_CROP,
    /** Bicubic resize of both edges to image_size, ignoring the aspect ratio. */
    SQUASH
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads {@code dir/encoder.json}.
   *
   * @throws IllegalArgumentException when the directory or file is missing, malformed, names a
   *     file that does not exist, or has an unknown format/resize mode or non-positive sizes
   */
  public static EncoderConfig read(Path dir) {
    if (dir == null || !Files.isDirectory(dir)) {
      throw new IllegalArgumentException("encoder directory does not exist: " + dir);
    }
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no " + FILE_NAME + " in encoder directory " + dir);
    }
    JsonNode n;
    try {
      n = JSON.readTree(file.toFile());
    } catch (JacksonException e) {
      throw new IllegalArgumentException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException(file + " must hold a JSON object");
    }
    String id = requiredText(n, "id", file);
    String fmt = requiredText(n, "format", file);
    Format format =
        switch (fmt.toLowerCase(Locale.ROOT)) {
          case "torchscript" -> Format.TORCHSCRIPT;
          case "onnx" -> Format.ONNX;
          case "pocket" -> Format.POCKET;
          default ->
              throw new IllegalArgumentException(
                  file + ": unknown format '" + fmt + "' (expected torchscript, onnx or pocket)");
        };
    String rs = n.path("resize").asText("shortest-edge-center-crop");
    ResizeMode resize =
        switch (rs) {
          case "shortest-edge-center-crop" -> ResizeMode.SHORTEST_EDGE_CENTER_CROP;
          case "squash" -> ResizeMode.SQUASH;
          default ->
              throw new IllegalArgumentException(
                  file + ": unknown resize '" + rs + "' (expected shortest-edge-center-crop or squash)");
        };
    int dim = positiveInt(n, "dim", file, -1);
    int imageSize = positiveInt(n, "image_size", file, 224);
    int context = positiveInt(n, "context_length", file, 77);
    if (context < 2) {
      throw new IllegalArgumentException(file + ": context_length must be >= 2, got " + context);
    }
    float[] mean = triple(n, "mean", file, new float[] {0.48145466f, 0.4578275f, 0.40821073f});
    float[] std = triple(n, "std", file, new float[] {0.26862954f, 0.26130258f, 0.27577711f});
    for (float s : std) {
      if (!(s > 0)) {
        throw new IllegalArgumentException(file + ": std values must be > 0");
      }
    }
    boolean pocket = format == Format.POCKET;
    Path image = pocket ? null : existing(dir, file, n, "image", true);
    Path text = pocket ? null : existing(dir, file, n, "text", false);
    Path tokenizer = existing(dir, file, n, "tokenizer", pocket);
    if (text != null && tokenizer == null) {
      throw new IllegalArgumentException(file + ": a text tower needs a \"tokenizer\" file");
    }
    long padId = n.path("pad_id").asLong(0);
    return new EncoderConfig(
        dir, id, format, image, text, dim, imageSize, resize, mean, std, context, tokenizer, padId);
  }

  /** Whether the directory holds a text tower (a {@code text} model, or a pocket pair). */
  public boolean hasText() {
    return format == Format.POCKET || text != null;
  }

  private static String requiredText(JsonNode n, String key, Path file) {
    JsonNode v = n.get(key);
    if (v == null || !v.isTextual() || v.asText().isBlank()) {
      throw new IllegalArgumentException(file + ": missing string field \"" + key + "\"");
    }
    return v.asText();
  }

  private static int positiveInt(JsonNode n, String key, Path file, int dflt) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      if (dflt > 0) {
        return dflt;
      }
      throw new IllegalArgumentException(file + ": missing integer field \"" + key + "\"");
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
      throw new IllegalArgumentException(file + ": \"" + key + "\" must be a positive integer, got " + v);
    }
    return v.asInt();
  }

  private static float[] triple(JsonNode n, String key, Path file, float[] dflt) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isArray() || v.size() != 3) {
      throw new IllegalArgumentException(file + ": \"" + key + "\" must be 3 numbers (R, G, B), got " + v);
    }
    float[] out = new float[3];
    for (int i = 0; i < 3; i++) {
      if (!v.get(i).isNumber()) {
        throw new IllegalArgumentException(file + ": \"" + key + "\" must be 3 numbers, got " + v);
      }
      out[i] = (float) v.get(i).asDouble();
    }
    return out;
  }

  private static Path existing(Path dir, Path file, JsonNode n, String key, boolean required) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      if (required) {
        throw new IllegalArgumentException(file + ": missing string field \"" + key + "\"");
      }
      return null;
    }
    Path p = dir.resolve(v.asText()).normalize();
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException(
          file + ": \"" + key + "\" names " + p + ", which does not exist");
    }
    return p;
  }
}
