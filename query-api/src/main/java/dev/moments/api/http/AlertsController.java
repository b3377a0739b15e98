package dev.moments.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moments.api.alerts.AlertRules;
import dev.moments.api.auth.Access;
import dev.moments.api.search.SearchQuery;
import dev.moments.featurizer.encoder.TextEncoder;
import dev.moments.topics.AlertRule;
import io.javalin.http.Context;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Standing queries: {@code POST /api/alerts}, {@code GET /api/alerts}, {@code DELETE
 * /api/alerts/{id}}. A rule belongs to the token that made it (its owner is the SHA-256 of the
 * token, {@code insecure} on a server without tokens): only that token lists or deletes it.
 *
 * <p>Streams: a token limited to some streams may name only those (another stream is 403, not
 * silently dropped: a standing rule that quietly watches less than asked would miss alerts); a
 * rule without streams watches all the token's streams, which for a limited token are fixed when
 * the rule is made, and for a {@code *} token (or an insecure server) are all streams, present and
 * future.
 *
 * <p>The query text is trimmed as a search's and encoded once, by the server's text encoder, when
 * the rule is made; the embedding is stored with the rule and never shown.
 */
final class AlertsController {
  static final Duration DEFAULT_COOLDOWN = Duration.ofSeconds(60);
  static final Duration MAX_COOLDOWN = Duration.ofDays(7);
  static final int MAX_RULES_PER_OWNER = 100;
  static final int MAX_STREAMS = 100;
  static final int MAX_WEBHOOK = 2000;
  static final Set<String> FIELDS = Set.of("q", "streams", "minScore", "cooldown", "webhook");
  private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)?");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final AlertRules rules;
  private final TextEncoder encoder;
  private final ObjectMapper mapper;

  AlertsController(AlertRules rules, TextEncoder encoder, ObjectMapper mapper) {
    this.rules = rules;
    this.encoder = encoder;
    this.mapper = mapper;
  }

  /** The owner of the caller's rules: {@code sha256:<hex>} of its token, or {@code insecure}. */
  static String owner(Context ctx) {
    String token = Auth.linkToken(ctx);
    if (token == null) {
      return "insecure";
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(h);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256", e);
    }
  }

  void create(Context ctx) throws IOException {
    JsonNode b = mapper.readTree(ctx.bodyAsBytes());
    if (b == null || !b.isObject()) {
      throw new IllegalArgumentException("body must be a JSON object such as {\"q\": \"the keys are put on the shelf\","
          + " \"minScore\": 0.3, \"cooldown\": \"60s\"}");
    }
    for (String f : (Iterable<String>) b::fieldNames) {
      if (!FIELDS.contains(f)) {
        throw new IllegalArgumentException("unknown field '" + f + "' (known: q, streams, minScore, cooldown, webhook)");
      }
    }
    JsonNode qn = b.get("q");
    if (qn == null || qn.isNull()) {
      throw new IllegalArgumentException("q is required");
    }
    if (!qn.isTextual()) {
      throw new IllegalArgumentException("q must be a string");
    }
    String q = SearchQuery.trim(qn.asText());
    if (q.isEmpty()) {
      throw new IllegalArgumentException("q must not be empty");
    }
    if (q.length() > SearchQuery.MAX_TEXT) {
      throw new IllegalArgumentException("q must be at most " + SearchQuery.MAX_TEXT + " characters, got " + q.length());
    }
    float minScore = minScore(b.get("minScore"));
    Duration cooldown = cooldown(b.get("cooldown"));
    String webhook = webhook(b.get("webhook"));
    List<String> streams = streams(b.get("streams"), Auth.access(ctx));
    String owner = owner(ctx);
    if (rules.of(owner).size() >= MAX_RULES_PER_OWNER) {
      throw new ApiException(409, "this token has " + MAX_RULES_PER_OWNER + " alert rules already (the most "
          + "allowed); delete one first");
    }
    float[] embedding;
    synchronized (encoder) {
      embedding = encoder.encode(q);
    }
    AlertRule rule = new AlertRule(newId(), owner, q, streams, minScore, cooldown.toMillis(), webhook,
        hex(32), embedding, encoder.id(), System.currentTimeMillis());
    try {
      rules.put(rule);
    } catch (AlertRules.Unavailable e) {
      throw new ApiException(503, e.getMessage());
    }
    ctx.status(201).header("Location", "/api/alerts/" + rule.id()).json(view(rule, true));
  }

  void list(Context ctx) throws InterruptedException {
    if (!rules.awaitLoaded(Duration.ofSeconds(5))) {
      throw new ApiException(503, "alert rules are not loaded yet (is the broker reachable?); try again");
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (AlertRule r : rules.of(owner(ctx))) {
      out.add(view(r, false));
    }
    ctx.json(Map.of("rules", out));
  }

  void delete(Context ctx) throws InterruptedException {
    String id = ctx.pathParam("id");
    if (!rules.awaitLoaded(Duration.ofSeconds(5))) {
      throw new ApiException(503, "alert rules are not loaded yet (is the broker reachable?); try again");
    }
    AlertRule r = rules.get(id).filter(x -> x.owner().equals(owner(ctx)))
        .orElseThrow(() -> ApiException.notFound("no alert rule '" + id + "' of this token"));
    try {
      rules.delete(r.id());
    } catch (AlertRules.Unavailable e) {
      throw new ApiException(503, e.getMessage());
    }
    ctx.status(204);
  }

  /** What the API shows of a rule: never the embedding; the secret only when it is made. */
  static Map<String, Object> view(AlertRule r, boolean withSecret) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.id());
    m.put("q", r.q());
    m.put("streams", r.streams());
    m.put("minScore", r.minScore());
    m.put("cooldown", formatDuration(r.cooldownMs()));
    m.put("cooldownMs", r.cooldownMs());
    m.put("webhook", r.webhook());
    if (withSecret) {
      m.put("secret", r.secret());
    }
    m.put("encoder", r.encoder());
    m.put("createdMs", r.createdMs());
    return m;
  }

  static float minScore(JsonNode n) {
    if (n == null || n.isNull()) {
      // no default: which score separates an event depends on the encoder and model, so the caller
      // decides (the alert matcher ranks as the served search does: its scores show the scale)
      throw new IllegalArgumentException("minScore is required: the score (between -1 and 1) at or above which a "
          + "span matches; the scores of /api/search for q show the scale");
    }
    if (!n.isNumber() || !(n.doubleValue() >= -1 && n.doubleValue() <= 1)) {
      throw new IllegalArgumentException("minScore must be a number between -1 and 1 (a score as /api/search gives), got " + n);
    }
    return (float) n.doubleValue();
  }

  /** A cooldown: {@code "60s"}, {@code "500ms"}, {@code "5m"}, {@code "1h"}, {@code "1d"}, or a number of seconds. */
  static Duration cooldown(JsonNode n) {
    if (n == null || n.isNull()) {
      return DEFAULT_COOLDOWN;
    }
    Duration d;
    if (n.isIntegralNumber() && n.canConvertToLong()) {
      if (n.longValue() < 0) {
        throw new IllegalArgumentException("cooldown must not be negative, got " + n);
      }
      d = Duration.ofSeconds(Math.min(n.longValue(), MAX_COOLDOWN.toSeconds() + 1)); // no overflow
    } else if (n.isTextual()) {
      d = parseDuration(n.asText());
    } else {
      throw new IllegalArgumentException("cooldown must be a duration such as \"60s\", \"500ms\", \"5m\", \"1h\", got " + n);
    }
    if (d.compareTo(MAX_COOLDOWN) > 0) {
      throw new IllegalArgumentException("cooldown must be at most 7d, got " + n);
    }
    return d;
  }

  static Duration parseDuration(String s) {
    Matcher m = DURATION.matcher(s.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("cooldown must be a duration such as \"60s\", \"500ms\", \"5m\", \"1h\", got \""
          + s + "\"");
    }
    long v = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    long per = switch (unit) {
      case "ms" -> 1;
      case "s" -> 1000;
      case "m" -> 60_000;
      case "h" -> 3_600_000;
      default -> 86_400_000;
    };
    try {
      return Duration.ofMillis(Math.multiplyExact(v, per));
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("cooldown must be at most 7d, got \"" + s + "\"");
    }
  }

  static String formatDuration(long ms) {
    if (ms % 1000 != 0) {
      return ms + "ms";
    }
    long s = ms / 1000;
    if (s != 0 && s % 3600 == 0) {
      return s / 3600 + "h";
    }
    if (s != 0 && s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }

  static String webhook(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw new IllegalArgumentException("webhook must be an http or https URL as a string, got " + n);
    }
    String s = n.asText().strip();
    if (s.length() > MAX_WEBHOOK) {
      throw new IllegalArgumentException("webhook must be at most " + MAX_WEBHOOK + " characters");
    }
    try {
      URI u = new URI(s);
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || u.getHost().isEmpty()) {
        throw new IllegalArgumentException("webhook must be an absolute http or https URL with a host, got \"" + s + "\"");
      }
      if (u.getUserInfo() != null) {
        throw new IllegalArgumentException("webhook must not carry a user or password in the URL");
      }
      return u.toString();
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("webhook is not a URL: " + e.getMessage());
    }
  }

  static List<String> streams(JsonNode n, Access access) {
    if (n == null || n.isNull() || (n.isArray() && n.isEmpty())) {
      return access.everyStream() ? List.of() : sortedOrForbidden(access);
    }
    if (!n.isArray()) {
      throw new IllegalArgumentException("streams must be an array of stream ids");
    }
    if (n.size() > MAX_STREAMS) {
      throw new IllegalArgumentException("streams must list at most " + MAX_STREAMS + " streams");
    }
    Set<String> out = new LinkedHashSet<>();
    List<String> denied = new ArrayList<>();
    for (JsonNode s : n) {
      if (!s.isTextual() || s.asText().isBlank()) {
        throw new IllegalArgumentException("streams must be an array of non-empty strings");
      }
      out.add(s.asText());
      if (!access.allows(s.asText())) {
        denied.add(s.asText());
      }
    }
    if (!denied.isEmpty()) {
      throw ApiException.forbidden("this token may not see stream(s) " + denied);
    }
    return List.copyOf(out);
  }

  private static List<String> sortedOrForbidden(Access access) {
    if (access.streams().isEmpty()) {
      throw ApiException.forbidden("this token may see no stream");
    }
    return access.streams().stream().sorted().toList();
  }

  private static String newId() {
    return "r-" + hex(8);
  }

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}
