package io.portcullis.policy.sql;

import java.util.Locale;

/** What a statement does, as policy rules name it ({@code copy-in}, {@code ddl}, …). */
public enum StatementKind {
  SELECT,
  INSERT,
  UPDATE,
  DELETE,
  MERGE,
  TRUNCATE,
  /** CREATE, ALTER, DROP, GRANT, REVOKE, COMMENT, SECURITY LABEL, REFRESH, IMPORT. */
  DDL,
  COPY_IN,
  COPY_OUT,
  CALL,
  DO,
  /** SET, RESET and SET ROLE / SESSION AUTHORIZATION; see {@link StatementAnalysis#setting()}. */
  SET,
  SHOW,
  /** BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, … PREPARED. */
  TRANSACTION,
  /** FETCH, MOVE and CLOSE of a cursor whose DECLARE was checked. */
  CURSOR,
  /** EXPLAIN; with ANALYZE the explained statement's kinds apply too, since it runs. */
  EXPLAIN,
  /** LISTEN, UNLISTEN and NOTIFY. */
  NOTIFY,
  /** DEALLOCATE, DISCARD, LOAD and other session housekeeping. */
  SESSION,
  /** VACUUM, ANALYZE, CLUSTER, REINDEX, CHECKPOINT. */
  MAINTENANCE,
  LOCK,
  /** A fast-path FunctionCall message. */
  FUNCTION_CALL,
  /** Anything the analysis cannot fully understand: denied unless a rule names this kind. */
  UNPARSED;

  /** The name used in policy files. */
  public String policyName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static StatementKind fromPolicyName(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
  }

  public boolean writesData() {
    return this == INSERT
        || this == UPDATE
        || this == DELETE
        || this == MERGE
        || this == TRUNCATE
        || this == COPY_IN;
  }
}
