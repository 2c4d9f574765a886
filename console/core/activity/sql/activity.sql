-- Every backend connected to the target's database (pg_stat_activity), one row each (a
-- server holding several targets' databases shows each client backend once, under its own
-- target; background processes, which belong to no database, come with every target of the
-- server and the screen shows them once): pg_activity's main query,
-- PostgreSQL 10-13 (no query_id). pg_blocking_pids() is only called for sessions that wait
-- on a heavyweight lock, so an idle server costs one scan of pg_stat_activity and no
-- lock-manager work. No count(*): the sample is the rows themselves.
SELECT extract(epoch FROM clock_timestamp())::float8 AS at,
       pg_backend_pid() AS self_pid,
       current_database() AS self_datname,
       a.pid, a.datname, a.usename, a.application_name,
       host(a.client_addr) AS client_addr, a.client_port,
       coalesce(a.backend_type, '') AS backend_type,
       a.state, a.wait_event_type, a.wait_event,
       a.backend_start,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS xact_age_s,
       extract(epoch FROM clock_timestamp() - a.query_start)::float8 AS query_age_s,
       extract(epoch FROM clock_timestamp() - a.state_change)::float8 AS state_age_s,
       NULL::bigint AS query_id,
       NULL::int AS leader_pid,
       a.query,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) ELSE '{}'::int[] END AS blocked_by
  FROM pg_stat_activity a
 WHERE a.datname = current_database() OR a.datname IS NULL
 ORDER BY a.pid
 LIMIT %(limit)s
