package dev.moments.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The sizes of a LAVITI network (DESIGN §4). {@link #paper(int, int)} gives the paper's sizes
 * (D 512, L 1024, 6 + 6 layers, 8 heads x 64, M 100, conv kernel = stride = 7); {@link #tiny(int,
 * int)} a small network for tests. Stored as {@code config.json} in a checkpoint.
 *
 * @param featureDim C, the frame-feature dimension the tokenizer expects
 * @param textDim dimension of the visual/language embedding head (= the text encoder's)
 * @param dModel D, the transformer width (= heads x headDim)
 * @param teLength L, the number of learnable temporal embeddings
 * @param encoderLayers transformer encoder depth
 * @param decoderLayers DETR decoder depth
 * @param heads attention heads
 * @param ffnDim hidden width of the transformer feed-forward blocks
 * @param numQueries M, learnable moment queries (moments per window)
 * @param kernel conv tokenizer kernel = stride (frames per token)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LavitiConfig(
    int featureDim,
    int textDim,
    int dModel,
    int teLength,
    int encoderLayers,
    int decoderLayers,
    int heads,
    int ffnDim,
    int numQueries,
    int kernel) {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public LavitiConfig {
    positive("featureDim", featureDim);
    positive("textDim", textDim);
    positive("dModel", dModel);
    positive("teLength", teLength);
    positive("encoderLayers", encoderLayers);
    positive("decoderLayers", decoderLayers);
    positive("heads", heads);
    positive("ffnDim", ffnDim);
    positive("numQueries", numQueries);
    positive("kernel", kernel);
    if (dModel % heads != 0) {
      throw new IllegalArgumentException("dModel " + dModel + " is not divisible by heads " + heads);
    }
    if (teLength < 2) {
      throw new IllegalArgumentException("teLength must be >= 2, got " + teLength);
    }
  }

  private static void positive(String name, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException(name + " must be > 0, got " + v);
    }
  }

  /** The paper's sizes with the given feature and text dimensions (paper: 1024 and 1024). */
  public static LavitiConfig paper(int featureDim, int textDim) {
    return new LavitiConfig(featureDim, textDim, 512, 1024, 6, 6, 8, 2048, 100, 7);
  }

  /** The paper's sizes for CLIP ViT-H-14 features (C = 1024) and a 1024-d text tower. */
  public static LavitiConfig paper() {
    return paper(1024, 1024);
  }

  /**
   * A small model that learns the synthetic worlds in about a minute on two cores: D 64, L 64,
   * 2 + 2 layers, 4 heads, FFN 128, M 16, kernel 7.
   */
  public static LavitiConfig small(int featureDim, int textDim) {
    return new LavitiConfig(featureDim, textDim, 64, 64, 2, 2, 4, 128, 16, 7);
  }

  /** Test size: D 32, L 64, 2 + 2 layers, 4 heads, FFN 64, M 16, kernel 7. */
  public static LavitiConfig tiny(int featureDim, int textDim) {
    return new LavitiConfig(featureDim, textDim, 32, 64, 2, 2, 4, 64, 16, 7);
  }

  public int headDim() {
    return dModel / heads;
  }

  /** Reads a config JSON file; IllegalArgumentException when it is missing or malformed. */
  public static LavitiConfig read(Path file) throws IOException {
    if (!file.toFile().isFile()) {
      throw new IllegalArgumentException("no model config file " + file);
    }
    try {
      return JSON.readValue(file.toFile(), LavitiConfig.class);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException(file + " is not a valid LAVITI config: " + e.getOriginalMessage(), e);
    }
  }

  public void write(Path file) throws IOException {
    JSON.writeValue(file.toFile(), this);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
