-- The longest open transaction and the longest running statement in this database
-- (the console's own session excluded).
(SELECT 'xact' AS kind, pid, usename, datname, application_name, state, wait_event_type, wait_event,
        extract(epoch FROM clock_timestamp() - xact_start)::float8 AS seconds,
        left(query, 300) AS query
   FROM pg_stat_activity
  WHERE backend_type = 'client backend' AND xact_start IS NOT NULL
    AND pid <> pg_backend_pid() AND datname = current_database()
  ORDER BY xact_start
  LIMIT 1)
UNION ALL
(SELECT 'query', pid, usename, datname, application_name, state, wait_event_type, wait_event,
        extract(epoch FROM clock_timestamp() - query_start)::float8,
        left(query, 300)
   FROM pg_stat_activity
  WHERE backend_type = 'client backend' AND state = 'active'
    AND pid <> pg_backend_pid() AND datname = current_database()
  ORDER BY query_start
  LIMIT 1)
