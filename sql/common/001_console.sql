-- common/001_console.sql
-- Applied first to every PostgreSQL target (before sql/<system>/*.sql).
-- Schema owned by the console itself: the audit trail of every mutating action
-- (partition DDL, schema apply, approve/reject/execute, session delete).
-- console.schema_migrations is created by the migration runner, not here.

CREATE SCHEMA IF NOT EXISTS console;

CREATE TABLE console.audit_log (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor     TEXT        NOT NULL,
    action    TEXT        NOT NULL,
    target    TEXT        NOT NULL,           -- which backend / object
    detail    JSONB       NOT NULL DEFAULT '{}'::jsonb,
    outcome   TEXT        NOT NULL CHECK (outcome IN ('ok', 'failed', 'refused')),
    read_only BOOLEAN     NOT NULL DEFAULT false
);

CREATE INDEX idx_audit_log_at ON console.audit_log (at);

COMMENT ON TABLE console.audit_log IS
    'Audit record of every mutating action performed by the console (or refused in read-only mode).';
