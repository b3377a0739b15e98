package dev.moments.api.search;

import dev.moments.model.rank.SpanRanker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The span rankers the served search can be configured with, by name ({@code MomentsServer.Config
 * #withRanker}). {@value #DEFAULT} (LAVITI moments only, {@link LavitiOnlyRanker}) is the default
 * until the fused ranker of {@code dev.moments.model.rank} is registered here.
 */
public final class Rankers {
  /** The default ranker's name. */
  public static final String DEFAULT = "laviti";

  private static final Map<String, Supplier<SpanRanker>> BY_NAME = new LinkedHashMap<>();

  static {
    BY_NAME.put(DEFAULT, LavitiOnlyRanker::new);
  }

  private Rankers() {}

  /** The names that {@link #named} knows. */
  public static java.util.Set<String> names() {
    return java.util.Collections.unmodifiableSet(BY_NAME.keySet());
  }

  /**
   * A new ranker by name.
   *
   * @throws IllegalArgumentException for an unknown name (the message lists the known ones)
   */
  public static SpanRanker named(String name) {
    Supplier<SpanRanker> s = BY_NAME.get(name);
    if (s == null) {
      throw new IllegalArgumentException("unknown ranker '" + name + "', known: " + String.join(", ", BY_NAME.keySet()));
    }
    return s.get();
  }
}
