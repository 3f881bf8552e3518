-- The audit journal's tables in PostgreSQL (Pekko Persistence JDBC 1.1 layout). The gateway
-- applies this at start when portcullis.journal.create-schema is on; `psql -f` applies it by hand.
-- Every statement is idempotent, so running it again is harmless.
CREATE TABLE IF NOT EXISTS public.event_journal (
  ordering BIGSERIAL,
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  deleted BOOLEAN DEFAULT FALSE NOT NULL,
  writer VARCHAR(255) NOT NULL,
  write_timestamp BIGINT,
  adapter_manifest VARCHAR(255),
  event_ser_id INTEGER NOT NULL,
  event_ser_manifest VARCHAR(255) NOT NULL,
  event_payload BYTEA NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,
  PRIMARY KEY (persistence_id, sequence_number)
);

CREATE UNIQUE INDEX IF NOT EXISTS event_journal_ordering_idx ON public.event_journal (ordering);

CREATE TABLE IF NOT EXISTS public.event_tag (
  event_id BIGINT,
  tag VARCHAR(256),
  PRIMARY KEY (event_id, tag),
  CONSTRAINT fk_event_journal FOREIGN KEY (event_id)
    REFERENCES public.event_journal (ordering) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS public.snapshot (
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  created BIGINT NOT NULL,
  snapshot_ser_id INTEGER NOT NULL,
  snapshot_ser_manifest VARCHAR(255) NOT NULL,
  snapshot_payload BYTEA NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BYTEA,
  PRIMARY KEY (persistence_id, sequence_number)
);

-- The read side: index tables that `portcullis audit sessions|export` and the admin API's /audit
-- query, fed from event_journal by the indexer (docs/audit.md, section 4). They hold nothing the
-- journal does not; dropping them (and the offset row) makes the indexer rebuild them.
CREATE TABLE IF NOT EXISTS public.audit_sessions (
  session VARCHAR(255) PRIMARY KEY,
  subject VARCHAR NOT NULL,
  issuer VARCHAR NOT NULL,
  groups_json VARCHAR NOT NULL,
  agent BOOLEAN NOT NULL,
  client_address VARCHAR NOT NULL,
  client_port INTEGER NOT NULL,
  application_name VARCHAR NOT NULL,
  target VARCHAR NOT NULL,
  upstream_role VARCHAR NOT NULL,
  node VARCHAR NOT NULL,
  opened_at TIMESTAMP WITH TIME ZONE NOT NULL,
  closed_at TIMESTAMP WITH TIME ZONE,
  close_reason VARCHAR,
  statements BIGINT DEFAULT 0 NOT NULL
);

CREATE INDEX IF NOT EXISTS audit_sessions_subject_idx ON public.audit_sessions (subject, opened_at);

CREATE INDEX IF NOT EXISTS audit_sessions_opened_idx ON public.audit_sessions (opened_at);

CREATE INDEX IF NOT EXISTS audit_sessions_client_idx ON public.audit_sessions (client_address, opened_at);

CREATE INDEX IF NOT EXISTS audit_sessions_target_idx ON public.audit_sessions (target, opened_at);

-- One row per statement; subject, target and client address are copied from its session so that
-- a query by identity and time needs no join.
CREATE TABLE IF NOT EXISTS public.audit_statements (
  session VARCHAR(255) NOT NULL,
  statement BIGINT NOT NULL,
  at TIMESTAMP WITH TIME ZONE NOT NULL,
  subject VARCHAR NOT NULL,
  target VARCHAR NOT NULL,
  client_address VARCHAR NOT NULL,
  protocol VARCHAR NOT NULL,
  sql_text VARCHAR NOT NULL,
  decision VARCHAR,
  rules_json VARCHAR,
  policy_version VARCHAR,
  tables_json VARCHAR,
  approval_id VARCHAR,
  approval_outcome VARCHAR,
  approvers_json VARCHAR,
  command_tag VARCHAR,
  row_count BIGINT,
  duration_micros BIGINT,
  sqlstate VARCHAR,
  result_digest VARCHAR,
  completed_seq BIGINT DEFAULT 0 NOT NULL,
  PRIMARY KEY (session, statement)
);

CREATE INDEX IF NOT EXISTS audit_statements_subject_idx ON public.audit_statements (subject, at);

CREATE INDEX IF NOT EXISTS audit_statements_at_idx ON public.audit_statements (at);

CREATE INDEX IF NOT EXISTS audit_statements_decision_idx ON public.audit_statements (decision, at);

CREATE INDEX IF NOT EXISTS audit_statements_approval_idx ON public.audit_statements (approval_id);

CREATE INDEX IF NOT EXISTS audit_statements_sqlstate_idx ON public.audit_statements (sqlstate, at);

CREATE TABLE IF NOT EXISTS public.audit_statement_tables (
  session VARCHAR(255) NOT NULL,
  statement BIGINT NOT NULL,
  table_name VARCHAR NOT NULL,
  PRIMARY KEY (session, statement, table_name)
);

-- By table, holding the whole key: the indexer's duplicate check (session, statement, table) then
-- probes one entry whichever index the planner picks. An index on table_name alone (before
-- 2026-11-26) was picked while the table was new and unanalysed, and every insert scanned it.
DROP INDEX IF EXISTS public.audit_statement_tables_name_idx;

CREATE INDEX IF NOT EXISTS audit_statement_tables_table_idx
  ON public.audit_statement_tables (table_name, session, statement);

-- How far the indexer has read event_journal, by its ordering; updated in the same transaction as
-- the index rows.
CREATE TABLE IF NOT EXISTS public.audit_offsets (
  name VARCHAR(64) PRIMARY KEY,
  ordering BIGINT NOT NULL
);

INSERT INTO public.audit_offsets (name, ordering)
  SELECT 'audit-index', 0 WHERE NOT EXISTS (SELECT 1 FROM public.audit_offsets WHERE name = 'audit-index');
