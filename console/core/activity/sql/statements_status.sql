-- Is pg_stat_statements usable here? Loaded by the server (shared_preload_libraries) and
-- created in this database (pg_extension). Two catalog lookups, no scan.
SELECT current_setting('shared_preload_libraries') AS preload,
       (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS extversion,
       (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements') AS schema,
       extract(epoch FROM clock_timestamp())::float8 AS at
