-- Top statements of this database from pg_stat_statements, PostgreSQL 13 (extension
-- 1.8: total_exec_time / mean_exec_time, no toplevel column yet). The cumulative counters
-- since the last reset; the console turns two samples into deltas. Ordered by total time.
SELECT s.userid::bigint AS userid, s.queryid, true AS toplevel,
       r.rolname AS usename,
       s.calls, s.total_exec_time AS total_ms, s.mean_exec_time AS mean_ms, s.rows,
       s.shared_blks_hit, s.shared_blks_read,
       left(s.query, 2000) AS query
  FROM {schema}.pg_stat_statements s
  LEFT JOIN pg_roles r ON r.oid = s.userid
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY s.total_exec_time DESC
 LIMIT %(limit)s
