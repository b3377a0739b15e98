package dev.moments.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moments.api.metrics.Metrics;
import dev.moments.api.search.MomentStore;
import dev.moments.api.search.SearchQuery;
import dev.moments.api.search.SearchService;
import io.javalin.http.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** {@code GET/POST /api/search}: parameters in, {@link SearchService} answer out as JSON. */
final class SearchController {
  private final SearchService service;
  private final Metrics metrics;

  SearchController(SearchService service, Metrics metrics) {
    this.service = service;
    this.metrics = metrics;
  }

  /** The JSON answer. */
  record SearchResponse(String query, double tookMs, List<Result> results) {}

  /** One moment of the answer. */
  record Result(String momentId, String streamId, long startMs, long endMs, String start, String end,
      double score, String thumbnailUrl) {}

  /** The POST body: the same fields as the query parameters. */
  record SearchBody(String q, JsonNode streams, JsonNode from, JsonNode to, Integer k) {}

  void get(Context ctx) {
    String q = ctx.queryParamAsClass("q", String.class)
        .check(s -> s == null || !s.isBlank(), "q must not be empty")
        .check(s -> s == null || s.strip().length() <= SearchQuery.MAX_TEXT, "q must be at most " + SearchQuery.MAX_TEXT + " characters")
        .get();
    int k = ctx.queryParamAsClass("k", Integer.class)
        .check(v -> v == null || (v >= 1 && v <= SearchQuery.MAX_K), "k must be between 1 and " + SearchQuery.MAX_K)
        .getOrDefault(SearchQuery.DEFAULT_K);
    Times.EpochMs from = ctx.queryParamAsClass("from", Times.EpochMs.class).getOrNull();
    Times.EpochMs to = ctx.queryParamAsClass("to", Times.EpochMs.class).getOrNull();
    answer(ctx, new SearchQuery(q, streams(ctx.queryParam("streams")), ms(from), ms(to), k));
  }

  void post(Context ctx) {
    SearchBody b = ctx.bodyAsClass(SearchBody.class);
    if (b == null || b.q() == null) {
      throw new IllegalArgumentException("q is required");
    }
    Set<String> streams = null;
    if (b.streams() != null && !b.streams().isNull()) {
      if (b.streams().isArray()) {
        streams = new LinkedHashSet<>();
        for (JsonNode n : b.streams()) {
          streams.add(n.asText());
        }
      } else {
        streams = streams(b.streams().asText());
      }
    }
    int k = b.k() == null ? SearchQuery.DEFAULT_K : b.k();
    answer(ctx, new SearchQuery(b.q(), streams, time(b.from()), time(b.to()), k));
  }

  private void answer(Context ctx, SearchQuery q) {
    long t0 = System.nanoTime();
    SearchService.SearchResult r = service.search(q, Auth.access(ctx));
    metrics.searchSeconds((System.nanoTime() - t0) / 1e9);
    String token = Auth.linkToken(ctx);
    List<Result> results = new ArrayList<>();
    for (MomentStore.Hit h : r.hits()) {
      results.add(new Result(h.momentId(), h.streamId(), h.startMs(), h.endMs(), Times.iso(h.startMs()),
          Times.iso(h.endMs()), h.similarity(), thumbnailUrl(h.streamId(), h.startMs() + (h.endMs() - h.startMs()) / 2, token)));
    }
    ctx.json(new SearchResponse(r.query(), Math.round(r.tookMs() * 1000) / 1000.0, results));
  }

  /** The frame URL of a stream at a time, with the token when auth is on (so that {@code <img>} works). */
  static String thumbnailUrl(String streamId, long timeMs, String token) {
    String url = "/api/streams/" + URLEncoder.encode(streamId, StandardCharsets.UTF_8).replace("+", "%20") + "/frame?t=" + timeMs;
    return token == null ? url : url + "&token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
  }

  private static Set<String> streams(String csv) {
    if (csv == null || csv.isBlank()) {
      return null;
    }
    Set<String> out = new LinkedHashSet<>();
    Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(out::add);
    return out.isEmpty() ? null : out;
  }

  private static Long ms(Times.EpochMs t) {
    return t == null ? null : t.value();
  }

  private static Long time(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isIntegralNumber()) {
      return n.asLong();
    }
    if (!n.isTextual()) {
      throw new IllegalArgumentException("times must be ISO-8601 text or epoch ms numbers, got " + n);
    }
    return Times.parse(n.asText()).value();
  }
}
