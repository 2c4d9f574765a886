-- Maintenance running now, with progress: VACUUM (PostgreSQL 10-11). One row per
-- running command, uniform columns: done/total in the command's own unit (blocks or tuples).
-- Relation names resolve only in the connected database (elsewhere the oid is shown).
WITH p AS (
    SELECT 'VACUUM' AS command, pid, datid, datname, relid, phase,
           heap_blks_scanned::float8 AS done, heap_blks_total::float8 AS total, 'blocks' AS unit
      FROM pg_stat_progress_vacuum
)
SELECT p.command, p.pid, p.datname, p.phase,
       CASE WHEN p.datname = current_database() THEN p.relid::regclass::text ELSE p.relid::text END AS relation,
       p.done, p.total, p.unit,
       CASE WHEN p.total > 0 THEN round((100 * p.done / p.total)::numeric, 1)::float8 END AS percent,
       extract(epoch FROM clock_timestamp() - a.query_start)::float8 AS age_s,
       a.usename, left(a.query, 2000) AS query
  FROM p
  LEFT JOIN pg_stat_activity a USING (pid)
 ORDER BY age_s DESC NULLS LAST, p.pid
