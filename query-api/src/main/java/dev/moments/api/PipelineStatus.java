package dev.moments.api;

import dev.moments.topics.LoopHealth;
import java.util.List;

/** The live state of what feeds the API, for {@code /health} and {@code /metrics}. */
public interface PipelineStatus {
  /** True when the Kafka cluster answered recently. */
  boolean brokerReachable();

  /** True when the moment index is open and readable. */
  boolean indexOpen();

  /** Records of the moments topic not yet in the index (the materializer's lag). */
  long ingestLag();

  /** True once the materializer has read the moments topic up to where it was at start. */
  boolean caughtUp();

  /** The background loops of the server (materializer, frames counter) and their state. */
  default List<LoopHealth.Status> loops() {
    return List.of();
  }
}
