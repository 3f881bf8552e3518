package io.portcullis.policy.sql;

import java.util.Locale;

/** Signs that a statement deserves a closer look, which rules can match on. */
public enum RiskSignal {
  /** An UPDATE or DELETE without a WHERE clause at its top level. */
  NO_WHERE,
  /** The statement came in one message with other statements. */
  MULTIPLE_STATEMENTS,
  /** A read that writes: a data-modifying WITH, SELECT … INTO, or a locking FOR UPDATE/SHARE. */
  WRITES_IN_READ,
  /** COPY to or from a server file or program. */
  SERVER_SIDE_IO;

  public String policyName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static RiskSignal fromPolicyName(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
  }
}
