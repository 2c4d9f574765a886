-- The tables with the most dead tuples and when autovacuum last ran on them.
-- n_live_tup / n_dead_tup are the statistics collector's estimates: no table is scanned.
SELECT schemaname, relname, n_live_tup, n_dead_tup, last_autovacuum, last_vacuum
  FROM pg_stat_user_tables
 ORDER BY n_dead_tup DESC, n_live_tup DESC, relname
 LIMIT %(limit)s
