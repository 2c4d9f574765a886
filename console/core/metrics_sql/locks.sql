-- Sessions waiting on a heavyweight lock in this database, with the pids blocking
-- them (pg_blocking_pids), and those blockers. pg_blocking_pids() is only called for
-- sessions already waiting on a lock, so an idle server costs one scan of
-- pg_stat_activity and no lock-manager work.
WITH waiting AS MATERIALIZED (
    SELECT pid, pg_blocking_pids(pid) AS blocked_by
      FROM pg_stat_activity
     WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()
       AND datname = current_database()
), involved AS (
    SELECT pid FROM waiting WHERE cardinality(blocked_by) > 0
    UNION
    SELECT unnest(blocked_by) FROM waiting
)
SELECT a.pid, coalesce(w.blocked_by, '{}'::int[]) AS blocked_by,
       a.usename, a.datname, a.application_name, a.state, a.wait_event_type, a.wait_event,
       extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start))::float8 AS xact_seconds,
       extract(epoch FROM clock_timestamp() - a.state_change)::float8 AS state_seconds,
       left(a.query, 300) AS query
  FROM involved i
  JOIN pg_stat_activity a USING (pid)
  LEFT JOIN waiting w USING (pid)
 ORDER BY a.pid
 LIMIT 200
