package dev.moments.api;

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
}
