package io.portcullis.persistence.approval;

import java.util.Locale;

public enum ApprovalStatus {
  PENDING,
  APPROVED,
  DENIED,
  EXPIRED,
  EXECUTED;

  /** Its name in the admin API and the CLI. */
  public String apiName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
