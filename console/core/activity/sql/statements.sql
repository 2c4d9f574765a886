-- Top statements of this database from pg_stat_statements, PostgreSQL 10-12 (extension
-- < 1.8: total_time / mean_time). The cumulative counters since the last reset; the
-- console turns two samples into deltas over the interval. Ordered by total time, limited.
SELECT s.userid::bigint AS userid, s.queryid, true AS toplevel,
       r.rolname AS usename,
       s.calls, s.total_time AS total_ms, s.mean_time AS mean_ms, s.rows,
       s.shared_blks_hit, s.shared_blks_read,
       left(s.query, 2000) AS query
  FROM {schema}.pg_stat_statements s
  LEFT JOIN pg_roles r ON r.oid = s.userid
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY s.total_time DESC
 LIMIT %(limit)s
