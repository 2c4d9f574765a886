-- Where the WAL is now, in bytes from 0/0 (a counter: two samples give WAL bytes per
-- second), on a primary the insert position, on a standby the replay position.
SELECT extract(epoch FROM clock_timestamp())::float8 AS at,
       pg_is_in_recovery() AS in_recovery,
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                            ELSE pg_current_wal_lsn() END, '0/0')::float8 AS lsn_bytes,
       current_setting('wal_level') AS wal_level,
       CASE WHEN pg_is_in_recovery()
            THEN extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 END AS replay_delay_s
