-- Standbys streaming from this server (pg_stat_replication) and how far behind each is,
-- in bytes (from the current WAL position) and in time (the server's own lag columns).
SELECT r.pid, r.application_name, host(r.client_addr) AS client_addr, r.state, r.sync_state,
       r.sent_lsn::text AS sent_lsn, r.replay_lsn::text AS replay_lsn,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.sent_lsn)::float8 AS send_lag_bytes,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::float8 AS replay_lag_bytes,
       extract(epoch FROM r.write_lag)::float8 AS write_lag_s,
       extract(epoch FROM r.flush_lag)::float8 AS flush_lag_s,
       extract(epoch FROM r.replay_lag)::float8 AS replay_lag_s
  FROM pg_stat_replication r
 WHERE NOT pg_is_in_recovery()
 ORDER BY r.application_name, r.pid
