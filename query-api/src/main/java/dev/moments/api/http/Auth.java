package dev.moments.api.http;

import dev.moments.api.auth.Access;
import dev.moments.api.auth.Tokens;
import io.javalin.http.Context;

/**
 * Resolves the caller's token for {@code /api/*}: an {@code Authorization: Bearer TOKEN} header,
 * or a {@code token} query parameter (so that {@code <img src>} thumbnails work).
 */
final class Auth {
  static final String ACCESS = "moments.access";
  static final String TOKEN = "moments.token";

  private final Tokens tokens;

  Auth(Tokens tokens) {
    this.tokens = tokens;
  }

  /** The before-handler: stores the caller's access or answers 401. */
  void authenticate(Context ctx) {
    String token = token(ctx);
    Access access = tokens.lookup(token).orElseThrow(() -> ApiException.unauthorized(
        token == null ? "missing token: send 'Authorization: Bearer TOKEN' or ?token=TOKEN" : "unknown token"));
    ctx.attribute(ACCESS, access);
    if (tokens.required()) {
      ctx.attribute(TOKEN, token);
    }
  }

  static Access access(Context ctx) {
    Access a = ctx.attribute(ACCESS);
    if (a == null) {
      throw new IllegalStateException("no access resolved for " + ctx.path());
    }
    return a;
  }

  /** The token to append to links the browser follows by itself, or null when auth is off. */
  static String linkToken(Context ctx) {
    return ctx.attribute(TOKEN);
  }

  private static String token(Context ctx) {
    String h = ctx.header("Authorization");
    if (h != null && h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String t = h.substring(7).strip();
      return t.isEmpty() ? null : t;
    }
    String q = ctx.queryParam("token");
    return q == null || q.isBlank() ? null : q;
  }
}
