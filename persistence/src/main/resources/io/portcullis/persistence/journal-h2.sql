-- The embedded journal's tables in H2 (Pekko Persistence JDBC 1.1 layout), idempotent.
CREATE TABLE IF NOT EXISTS PUBLIC."event_journal" (
  "ordering" BIGINT UNIQUE NOT NULL AUTO_INCREMENT,
  "deleted" BOOLEAN DEFAULT false NOT NULL,
  "persistence_id" VARCHAR(255) NOT NULL,
  "sequence_number" BIGINT NOT NULL,
  "writer" VARCHAR NOT NULL,
  "write_timestamp" BIGINT NOT NULL,
  "adapter_manifest" VARCHAR NOT NULL,
  "event_payload" BLOB NOT NULL,
  "event_ser_id" INTEGER NOT NULL,
  "event_ser_manifest" VARCHAR NOT NULL,
  "meta_payload" BLOB,
  "meta_ser_id" INTEGER,
  "meta_ser_manifest" VARCHAR,
  PRIMARY KEY ("persistence_id", "sequence_number")
);

CREATE UNIQUE INDEX IF NOT EXISTS "event_journal_ordering_idx" ON PUBLIC."event_journal" ("ordering");

CREATE TABLE IF NOT EXISTS PUBLIC."event_tag" (
  "event_id" BIGINT NOT NULL,
  "tag" VARCHAR NOT NULL,
  PRIMARY KEY ("event_id", "tag"),
  CONSTRAINT fk_event_journal FOREIGN KEY ("event_id")
    REFERENCES PUBLIC."event_journal" ("ordering") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS PUBLIC."snapshot" (
  "persistence_id" VARCHAR(255) NOT NULL,
  "sequence_number" BIGINT NOT NULL,
  "created" BIGINT NOT NULL,
  "snapshot_ser_id" INTEGER NOT NULL,
  "snapshot_ser_manifest" VARCHAR NOT NULL,
  "snapshot_payload" BLOB NOT NULL,
  "meta_ser_id" INTEGER,
  "meta_ser_manifest" VARCHAR,
  "meta_payload" BLOB,
  PRIMARY KEY ("persistence_id", "sequence_number")
);

-- The read side: index tables that `portcullis audit sessions|export` and the admin API's /audit
-- query, fed from event_journal by the indexer (docs/audit.md, section 4). They hold nothing the
-- journal does not; dropping them (and the offset row) makes the indexer rebuild them.
CREATE TABLE IF NOT EXISTS PUBLIC."audit_sessions" (
  "session" VARCHAR(255) PRIMARY KEY,
  "subject" VARCHAR NOT NULL,
  "issuer" VARCHAR NOT NULL,
  "groups_json" VARCHAR NOT NULL,
  "agent" BOOLEAN NOT NULL,
  "client_address" VARCHAR NOT NULL,
  "client_port" INTEGER NOT NULL,
  "application_name" VARCHAR NOT NULL,
  "target" VARCHAR NOT NULL,
  "upstream_role" VARCHAR NOT NULL,
  "node" VARCHAR NOT NULL,
  "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL,
  "closed_at" TIMESTAMP WITH TIME ZONE,
  "close_reason" VARCHAR,
  "statements" BIGINT DEFAULT 0 NOT NULL
);

CREATE INDEX IF NOT EXISTS "audit_sessions_subject_idx" ON PUBLIC."audit_sessions" ("subject", "opened_at");

CREATE INDEX IF NOT EXISTS "audit_sessions_opened_idx" ON PUBLIC."audit_sessions" ("opened_at");

CREATE INDEX IF NOT EXISTS "audit_sessions_client_idx" ON PUBLIC."audit_sessions" ("client_address", "opened_at");

CREATE INDEX IF NOT EXISTS "audit_sessions_target_idx" ON PUBLIC."audit_sessions" ("target", "opened_at");

-- One row per statement; subject, target and client address are copied from its session so that
-- a query by identity and time needs no join.
CREATE TABLE IF NOT EXISTS PUBLIC."audit_statements" (
  "session" VARCHAR(255) NOT NULL,
  "statement" BIGINT NOT NULL,
  "at" TIMESTAMP WITH TIME ZONE NOT NULL,
  "subject" VARCHAR NOT NULL,
  "target" VARCHAR NOT NULL,
  "client_address" VARCHAR NOT NULL,
  "protocol" VARCHAR NOT NULL,
  "sql_text" CHARACTER LARGE OBJECT NOT NULL,
  "decision" VARCHAR,
  "rules_json" VARCHAR,
  "policy_version" VARCHAR,
  "tables_json" VARCHAR,
  "approval_id" VARCHAR,
  "approval_outcome" VARCHAR,
  "approvers_json" VARCHAR,
  "command_tag" VARCHAR,
  "row_count" BIGINT,
  "duration_micros" BIGINT,
  "sqlstate" VARCHAR,
  "result_digest" VARCHAR,
  "completed_seq" BIGINT DEFAULT 0 NOT NULL,
  PRIMARY KEY ("session", "statement")
);

CREATE INDEX IF NOT EXISTS "audit_statements_subject_idx" ON PUBLIC."audit_statements" ("subject", "at");

CREATE INDEX IF NOT EXISTS "audit_statements_at_idx" ON PUBLIC."audit_statements" ("at");

CREATE INDEX IF NOT EXISTS "audit_statements_decision_idx" ON PUBLIC."audit_statements" ("decision", "at");

CREATE INDEX IF NOT EXISTS "audit_statements_approval_idx" ON PUBLIC."audit_statements" ("approval_id");

CREATE INDEX IF NOT EXISTS "audit_statements_sqlstate_idx" ON PUBLIC."audit_statements" ("sqlstate", "at");

CREATE TABLE IF NOT EXISTS PUBLIC."audit_statement_tables" (
  "session" VARCHAR(255) NOT NULL,
  "statement" BIGINT NOT NULL,
  "table_name" VARCHAR NOT NULL,
  PRIMARY KEY ("session", "statement", "table_name")
);

-- By table, holding the whole key, as in journal-postgres.sql.
DROP INDEX IF EXISTS PUBLIC."audit_statement_tables_name_idx";

CREATE INDEX IF NOT EXISTS "audit_statement_tables_table_idx"
  ON PUBLIC."audit_statement_tables" ("table_name", "session", "statement");

-- How far the indexer has read event_journal, by its ordering; updated in the same transaction as
-- the index rows.
CREATE TABLE IF NOT EXISTS PUBLIC."audit_offsets" (
  "name" VARCHAR(64) PRIMARY KEY,
  "ordering" BIGINT NOT NULL
);

INSERT INTO PUBLIC."audit_offsets" ("name", "ordering")
  SELECT 'audit-index', 0 WHERE NOT EXISTS (SELECT 1 FROM PUBLIC."audit_offsets" WHERE "name" = 'audit-index');
