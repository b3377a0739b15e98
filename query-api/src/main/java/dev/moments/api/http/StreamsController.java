package dev.moments.api.http;

import dev.moments.api.auth.Access;
import dev.moments.api.frames.FrameStore;
import dev.moments.api.search.StreamService;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;

/** {@code GET /api/streams} and {@code GET /api/streams/{id}/frame?t=}. */
final class StreamsController {
  private final StreamService streams;
  private final FrameStore frames;

  StreamsController(StreamService streams, FrameStore frames) {
    this.streams = streams;
    this.frames = frames;
  }

  void list(Context ctx) {
    List<StreamService.StreamInfo> list = streams.streams(Auth.access(ctx));
    ctx.json(Map.of("streams", list));
  }

  void frame(Context ctx) {
    String id = ctx.pathParam("id");
    long t = ctx.queryParamAsClass("t", Times.EpochMs.class).get().value();
    Access access = Auth.access(ctx);
    if (!access.allows(id)) {
      throw ApiException.forbidden("this token may not see stream '" + id + "'");
    }
    FrameStore.Frame f;
    try {
      f = frames.nearest(id, t)
          .orElseThrow(() -> ApiException.notFound("no frame of stream '" + id + "' near " + Times.iso(t)));
    } catch (FrameStore.Unavailable e) {
      ctx.header("Retry-After", "5");
      throw new ApiException(503, e.getMessage());
    }
    ctx.header("X-Frame-Time", Long.toString(f.timestampMs()));
    // With auth on, the answer depends on the token (in the URL or the header): never store it, so a
    // revoked token's frames are not served from a cache and token-bearing URLs do not sit on disk.
    ctx.header("Cache-Control", Auth.linkToken(ctx) != null ? "private, no-store" : "private, max-age=3600");
    ctx.contentType("image/jpeg").result(f.jpeg());
  }
}
