package io.portcullis.node.session;

import java.time.Duration;

/**
 * How long a session may outlive the token it was opened with: zero ends it when the token expires
 * (the default); a positive grace lets long-running work finish, up to that long after.
 */
public record SessionLifetime(Duration graceAfterTokenExpiry) {
  public SessionLifetime {
    if (graceAfterTokenExpiry.isNegative()) {
      throw new IllegalArgumentException("grace after token expiry cannot be negative");
    }
  }
}
