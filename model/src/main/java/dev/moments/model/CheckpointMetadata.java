package dev.moments.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code metadata.json} of a checkpoint: which features the model was trained on (encoder id,
 * feature dim, fps), its text dimension, a summary of the training data, the optimizer step and
 * the latest metrics.
 *
 * @param encoderId id of the image encoder whose frame features the model reads
 * @param featureDim frame-feature dimension C
 * @param textDim text embedding dimension
 * @param fps frame rate of the training features
 * @param trainingData free-form summary (videos, chunks, narrations, source paths)
 * @param step optimizer steps taken
 * @param metrics latest metrics by name (loss, eval numbers)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CheckpointMetadata(
    String encoderId,
    int featureDim,
    int textDim,
    double fps,
    Map<String, Object> trainingData,
    long step,
    Map<String, Double> metrics) {

  public static final String FILE_NAME = "metadata.json";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public CheckpointMetadata {
    trainingData = trainingData == null ? Map.of() : new TreeMap<>(trainingData);
    metrics = metrics == null ? Map.of() : new TreeMap<>(metrics);
  }

  /** Metadata of an untrained model. */
  public static CheckpointMetadata untrained(String encoderId, int featureDim, int textDim, double fps) {
    return new CheckpointMetadata(encoderId, featureDim, textDim, fps, Map.of("source", "random init"), 0, Map.of());
  }

  public CheckpointMetadata withStep(long newStep, Map<String, Double> newMetrics) {
    return new CheckpointMetadata(encoderId, featureDim, textDim, fps, trainingData, newStep, newMetrics);
  }

  /**
   * The chunk length the model was trained on ({@code chunk_sec} of the training summary), the
   * window length inference should use: temporal embeddings stand for positions relative to the
   * window, so a window much longer than the training chunks shrinks every predicted span.
   */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public java.util.OptionalDouble trainingChunkSec() {
    Object v = trainingData.get("chunk_sec");
    if (v instanceof Number n && n.doubleValue() > 0) {
      return java.util.OptionalDouble.of(n.doubleValue());
    }
    return java.util.OptionalDouble.empty();
  }

  public static CheckpointMetadata read(Path file) throws IOException {
    try {
      return JSON.readValue(file.toFile(), CheckpointMetadata.class);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IllegalArgumentException(file + " is not valid checkpoint metadata: " + e.getOriginalMessage(), e);
    }
  }

  public void write(Path file) throws IOException {
    JSON.writeValue(file.toFile(), this);
  }
}
