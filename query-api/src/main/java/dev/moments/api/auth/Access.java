package dev.moments.api.auth;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Which streams a caller may see: every stream ({@link #all()}) or a fixed set of stream ids.
 *
 * @param everyStream true for a {@code *} token (or an insecure server)
 * @param streams the allowed stream ids when {@code everyStream} is false
 */
public record Access(boolean everyStream, Set<String> streams) {
  private static final Access ALL = new Access(true, Set.of());

  public Access {
    streams = Set.copyOf(streams);
  }

  public static Access all() {
    return ALL;
  }

  public static Access only(Collection<String> streams) {
    return new Access(false, new LinkedHashSet<>(streams));
  }

  public boolean allows(String streamId) {
    return everyStream || streams.contains(streamId);
  }

  /**
   * The streams a search may look at: the requested ones (null = all) narrowed to the allowed
   * ones. Returns null for "all streams" and an empty set when nothing may be searched.
   */
  public Set<String> narrow(Set<String> requested) {
    if (everyStream) {
      return requested;
    }
    if (requested == null) {
      return streams;
    }
    Set<String> out = new LinkedHashSet<>(requested);
    out.retainAll(streams);
    return out;
  }
}
