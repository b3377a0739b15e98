package dev.moments.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.metrics.Metrics;
import dev.moments.api.search.MomentStore;
import dev.moments.api.search.SearchQuery;
import dev.moments.api.search.SearchService;
import io.javalin.http.Context;
import java.io.IOException;
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
  private final ObjectMapper mapper;

  SearchController(SearchService service, Metrics metrics, ObjectMapper mapper) {
    this.service = service;
    this.metrics = metrics;
    this.mapper = mapper;
  }

  /** The JSON answer. */
  record SearchResponse(String query, double tookMs, List<Result> results) {}

  /** One moment of the answer. */
  record Result(String momentId, String streamId, long startMs, long endMs, String start, String end,
      double score, String thumbnailUrl) {}

  void get(Context ctx) {
    String q = ctx.queryParamAsClass("q", String.class)
        .check(s -> s == null || !SearchQuery.trim(s).isEmpty(), "q must not be empty")
        .check(s -> s == null || SearchQuery.trim(s).length() <= SearchQuery.MAX_TEXT, "q must be at most " + SearchQuery.MAX_TEXT + " characters")
        .get();
    int k = ctx.queryParamAsClass("k", Integer.class)
        .check(v -> v == null || (v >= 1 && v <= SearchQuery.MAX_K), "k must be between 1 and " + SearchQuery.MAX_K)
        .getOrDefault(SearchQuery.DEFAULT_K);
    Times.EpochMs from = ctx.queryParamAsClass("from", Times.EpochMs.class).getOrNull();
    Times.EpochMs to = ctx.queryParamAsClass("to", Times.EpochMs.class).getOrNull();
    answer(ctx, new SearchQuery(q, streams(ctx.queryParam("streams")), ms(from), ms(to), k));
  }

  /**
   * The POST body is read as a JSON tree and checked field by field (not bound to a class), so
   * that types are strict ({@code "k": 1.9} and {@code "k": "5"} are 400, not coerced) and errors
   * name the field, never a Java type.
   */
  void post(Context ctx) throws IOException {
    JsonNode b = mapper.readTree(ctx.bodyAsBytes());
    if (b == null || !b.isObject()) {
      throw new IllegalArgumentException("body must be a JSON object such as {\"q\": \"keys\"}, got "
          + (b == null || b.isMissingNode() ? "nothing" : b.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
    }
    JsonNode q = b.get("q");
    if (q == null || q.isNull()) {
      throw new IllegalArgumentException("q is required");
    }
    if (!q.isTextual()) {
      throw new IllegalArgumentException("q must be a string");
    }
    answer(ctx, new SearchQuery(q.asText(), streams(b.get("streams")), time("from", b.get("from")),
        time("to", b.get("to")), k(b.get("k"))));
  }

  private static Set<String> streams(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isTextual()) {
      return streams(n.asText());
    }
    if (!n.isArray()) {
      throw new IllegalArgumentException("streams must be an array of strings or a comma-separated string");
    }
    Set<String> out = new LinkedHashSet<>();
    for (JsonNode s : n) {
      if (!s.isTextual()) {
        throw new IllegalArgumentException("streams must be an array of strings or a comma-separated string");
      }
      out.add(s.asText());
    }
    return out;
  }

  private static int k(JsonNode n) {
    if (n == null || n.isNull()) {
      return SearchQuery.DEFAULT_K;
    }
    if (!n.isIntegralNumber()) {
      throw new IllegalArgumentException("k must be an integer between 1 and " + SearchQuery.MAX_K + ", got " + n);
    }
    if (!n.canConvertToInt() || n.intValue() < 1 || n.intValue() > SearchQuery.MAX_K) {
      throw new IllegalArgumentException("k must be between 1 and " + SearchQuery.MAX_K);
    }
    return n.intValue();
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

  private static Long time(String field, JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isIntegralNumber() && n.canConvertToLong()) {
      return n.longValue();
    }
    if (!n.isTextual()) {
      throw new IllegalArgumentException(field + " must be ISO-8601 text or an epoch ms integer, got " + n);
    }
    try {
      return Times.parse(n.asText()).value();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
    }
  }
}
