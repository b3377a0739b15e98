package dev.moments.api.search;

import dev.moments.api.auth.Access;
import dev.moments.api.frames.FrameStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The streams a caller may see, joining what the moment index holds with what the frames topic
 * holds. A stream with frames but no moments yet (featurizing or inside its first window) is
 * listed with zero moments.
 */
public final class StreamService {
  private final MomentStore store;
  private final FrameStore frames;

  public StreamService(MomentStore store, FrameStore frames) {
    this.store = Objects.requireNonNull(store, "store");
    this.frames = Objects.requireNonNull(frames, "frames");
  }

  /**
   * One stream.
   *
   * @param id the stream id
   * @param firstMs the earliest frame capture time or moment start (epoch ms)
   * @param lastMs the latest frame capture time or moment end (epoch ms)
   * @param frames frames of the stream in the frames topic (within its retention)
   * @param moments moments of the stream in the index
   */
  public record StreamInfo(String id, long firstMs, long lastMs, long frames, long moments) {}

  /** The streams {@code access} allows, sorted by id. */
  public List<StreamInfo> streams(Access access) {
    Map<String, StreamInfo> byId = new TreeMap<>();
    for (MomentStore.StreamMoments s : store.streams()) {
      byId.put(s.streamId(), new StreamInfo(s.streamId(), s.firstMs(), s.lastMs(), 0, s.moments()));
    }
    for (Map.Entry<String, FrameStore.FrameSpan> e : frames.frameSpans().entrySet()) {
      FrameStore.FrameSpan f = e.getValue();
      byId.merge(e.getKey(), new StreamInfo(e.getKey(), f.firstMs(), f.lastMs(), f.frames(), 0),
          (a, b) -> new StreamInfo(a.id(), Math.min(a.firstMs(), b.firstMs()), Math.max(a.lastMs(), b.lastMs()),
              a.frames() + b.frames(), a.moments() + b.moments()));
    }
    List<StreamInfo> out = new ArrayList<>();
    for (StreamInfo s : byId.values()) {
      if (access.allows(s.id())) {
        out.add(s);
      }
    }
    out.sort(Comparator.comparing(StreamInfo::id));
    return out;
  }
}
