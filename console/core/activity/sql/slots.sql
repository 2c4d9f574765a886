-- Replication slots and the WAL each one keeps on disk (restart_lsn to the current
-- position), PostgreSQL 10-12 (no wal_status).
SELECT s.slot_name, s.slot_type, s.database, s.active, s.active_pid, s.temporary,
       s.restart_lsn::text AS restart_lsn, s.confirmed_flush_lsn::text AS confirmed_flush_lsn,
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                       s.restart_lsn)::float8 AS retained_bytes,
       NULL::text AS wal_status, NULL::float8 AS safe_wal_size
  FROM pg_replication_slots s
 ORDER BY retained_bytes DESC NULLS LAST, s.slot_name
