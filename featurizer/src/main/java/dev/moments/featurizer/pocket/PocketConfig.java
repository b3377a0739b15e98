package dev.moments.featurizer.pocket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shape of a pocket encoder pair and the {@code encoder.json} that describes a saved one:
 * {@code {"id", "format": "pocket", "dim", "image_size", "resize": "squash", "mean", "std",
 * "context_length", "tokenizer": "vocab.txt", "params": "pocket", "text_width", "channels"}}.
 * The DJL parameter file is {@code <params>-0000.params} beside it.
 *
 * @param id stable id of the weights
 * @param dim embedding dimension of both towers
 * @param imageSize side of the square image input (frames are squashed to it)
 * @param channels conv channels of the image tower, one conv layer each
 * @param textWidth width of the word embeddings
 * @param contextLength words of a text that are used (the rest is ignored)
 */
public record PocketConfig(
    String id, int dim, int imageSize, int[] channels, int textWidth, int contextLength) {
  public static final String FORMAT = "pocket";
  public static final String FILE_NAME = "encoder.json";
  public static final String VOCAB_FILE = "vocab.txt";
  public static final String PARAMS_PREFIX = "pocket";
  /** Per-channel mean and std of the image normalization ({@code (x/255 - mean) / std}). */
  public static final float[] MEAN = {0.5f, 0.5f, 0.5f};
  public static final float[] STD = {0.25f, 0.25f, 0.25f};

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public PocketConfig {
    if (dim < 2 || imageSize < 16 || textWidth < 2 || contextLength < 1 || channels.length < 1) {
      throw new IllegalArgumentException("bad pocket config: dim=" + dim + " image_size=" + imageSize
          + " text_width=" + textWidth + " context_length=" + contextLength + " channels=" + channels.length);
    }
    channels = channels.clone();
  }

  /** The default shape for the demo: 64-d, 64x64 input, four conv layers. */
  public static PocketConfig defaults(String id, int dim) {
    return new PocketConfig(id, dim, 64, new int[] {16, 32, 48, 64}, 64, 32);
  }

  @Override
  public int[] channels() {
    return channels.clone();
  }

  /** Writes {@code encoder.json} into {@code dir}. */
  public void write(Path dir) throws IOException {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", id);
    o.put("format", FORMAT);
    o.put("dim", dim);
    o.put("image_size", imageSize);
    o.put("resize", "squash");
    o.putArray("mean").add(MEAN[0]).add(MEAN[1]).add(MEAN[2]);
    o.putArray("std").add(STD[0]).add(STD[1]).add(STD[2]);
    o.put("context_length", contextLength);
    o.put("tokenizer", VOCAB_FILE);
    o.put("params", PARAMS_PREFIX);
    o.put("text_width", textWidth);
    var ch = o.putArray("channels");
    for (int c : channels) {
      ch.add(c);
    }
    JSON.writeValue(dir.resolve(FILE_NAME).toFile(), o);
  }

  /**
   * Reads {@code dir/encoder.json}.
   *
   * @throws IllegalArgumentException when it is missing, not of format {@code pocket}, or lacks a
   *     field
   */
  public static PocketConfig read(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no " + FILE_NAME + " in " + dir);
    }
    JsonNode o = JSON.readTree(file.toFile());
    String format = o.path("format").asText("");
    if (!FORMAT.equals(format)) {
      throw new IllegalArgumentException(file + " has format '" + format + "', expected '" + FORMAT + "'");
    }
    for (String f : new String[] {"id", "dim", "image_size", "channels", "text_width", "context_length"}) {
      if (!o.has(f)) {
        throw new IllegalArgumentException(file + " lacks \"" + f + "\"");
      }
    }
    JsonNode ch = o.get("channels");
    int[] channels = new int[ch.size()];
    for (int i = 0; i < channels.length; i++) {
      channels[i] = ch.get(i).asInt();
    }
    return new PocketConfig(o.get("id").asText(), o.get("dim").asInt(), o.get("image_size").asInt(), channels,
        o.get("text_width").asInt(), o.get("context_length").asInt());
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PocketConfig c && c.id.equals(id) && c.dim == dim && c.imageSize == imageSize
        && java.util.Arrays.equals(c.channels, channels) && c.textWidth == textWidth
        && c.contextLength == contextLength;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(id, dim, imageSize, java.util.Arrays.hashCode(channels), textWidth, contextLength);
  }

  @Override
  public String toString() {
    return "PocketConfig[id=" + id + ", dim=" + dim + ", imageSize=" + imageSize + ", channels="
        + java.util.Arrays.toString(channels) + ", textWidth=" + textWidth + ", contextLength=" + contextLength + "]";
  }
}
