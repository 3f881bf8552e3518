package io.portcullis.policy.sql;

/** Text that PostgreSQL's scanner would reject, or that the gateway refuses to interpret. */
public final class SqlSyntaxException extends Exception {

  public SqlSyntaxException(String message) {
    super(message, null, false, false);
  }
}
