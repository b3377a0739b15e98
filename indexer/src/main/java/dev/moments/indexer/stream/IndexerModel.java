package dev.moments.indexer.stream;

import dev.moments.model.LavitiModel;
import dev.moments.model.MomentPredictor;
import java.util.Objects;

/**
 * The model the indexer runs, with what the indexer must know about it: the id written into
 * every moment, and the feature dimension and encoder id its input features must have (other
 * features go to the dead-letter topic).
 */
public record IndexerModel(
    MomentPredictor predictor, String modelId, int featureDim, String encoderId) {
  public IndexerModel {
    Objects.requireNonNull(predictor, "predictor");
    Objects.requireNonNull(modelId, "modelId");
    Objects.requireNonNull(encoderId, "encoderId");
    if (featureDim < 1) {
      throw new IllegalArgumentException("featureDim must be >= 1, got " + featureDim);
    }
  }

  /** The indexer's view of a LAVITI checkpoint: its id, feature dim and encoder id. */
  public static IndexerModel of(LavitiModel m) {
    return new IndexerModel(m, m.modelId(), m.config().featureDim(), m.metadata().encoderId());
  }
}
