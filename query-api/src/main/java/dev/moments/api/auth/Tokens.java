package dev.moments.api.auth;

import java.util.Optional;

/** Resolves a bearer token to the streams it may see. */
public interface Tokens {
  /** The access of {@code token}, or empty when the token is missing (null) or unknown. */
  Optional<Access> lookup(String token);

  /** True when callers must present a token; false for an explicitly insecure server. */
  boolean required();

  /** No authentication: every caller (with or without a token) sees every stream. */
  static Tokens insecure() {
    return new Tokens() {
      @Override
      public Optional<Access> lookup(String token) {
        return Optional.of(Access.all());
      }

      @Override
      public boolean required() {
        return false;
      }
    };
  }
}
