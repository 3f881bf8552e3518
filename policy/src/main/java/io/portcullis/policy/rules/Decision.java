package io.portcullis.policy.rules;

import java.util.Locale;

/** What happens to a statement. When several rules match, the most severe decision wins. */
public enum Decision {
  ALLOW,
  /** Held for (or refused until) a person's approval. */
  REVIEW,
  DENY;

  public boolean isMoreSevereThan(Decision other) {
    return ordinal() > other.ordinal();
  }

  public String policyName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
