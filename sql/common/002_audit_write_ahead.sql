-- common/002_audit_write_ahead.sql
-- Write-ahead audit (console/core/audit.py): the intent of an action is recorded
-- (outcome 'pending') before anything changes and settled afterwards ('ok', 'failed',
-- 'unknown' when the console could not learn whether the change landed). Refusals are
-- recorded as 'refused'. Who acted is a principal a backend vouches for.

ALTER TABLE console.audit_log DROP CONSTRAINT audit_log_outcome_check;
ALTER TABLE console.audit_log ADD CONSTRAINT audit_log_outcome_check
    CHECK (outcome IN ('pending', 'ok', 'failed', 'unknown', 'refused'));

ALTER TABLE console.audit_log
    ADD COLUMN plan_digest        TEXT,                                -- sha256 of the previewed plan
    ADD COLUMN principal_source   TEXT NOT NULL DEFAULT 'declared'
        CHECK (principal_source IN ('aws-sts', 'postgres-session-user', 'declared')),
    ADD COLUMN principal_verified BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN db_user            TEXT NOT NULL DEFAULT session_user, -- who PostgreSQL says wrote the row
    ADD COLUMN os_user            TEXT,
    ADD COLUMN ssh_origin         TEXT,                               -- SSH_CONNECTION client ip and port
    ADD COLUMN settled_at         TIMESTAMPTZ;

-- Intents left pending (the process died between intent and settle) are found by reconcile.
CREATE INDEX idx_audit_log_pending ON console.audit_log (at) WHERE outcome = 'pending';

COMMENT ON COLUMN console.audit_log.actor IS
    'The principal: an AWS ARN (aws-sts), a PostgreSQL role (postgres-session-user) or a declared name.';
