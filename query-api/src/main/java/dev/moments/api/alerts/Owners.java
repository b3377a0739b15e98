package dev.moments.api.alerts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The owner of rules and alerts ({@link dev.moments.topics.AlertRule#owner()}): {@code
 * sha256:<hex of the bearer token>}, so the token itself is never written to a topic, or {@code
 * insecure} on a server without tokens.
 */
public final class Owners {
  /** The owner of everything on a server without tokens. */
  public static final String INSECURE = "insecure";

  private Owners() {}

  /** The owner for {@code token}; null (no token, as on an insecure server) is {@link #INSECURE}. */
  public static String of(String token) {
    if (token == null) {
      return INSECURE;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(h);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
