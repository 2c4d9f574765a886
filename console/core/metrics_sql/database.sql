-- One row of cumulative counters for the connected database, plus its size and the
-- server settings the screen shows. Rates are deltas between two samples.
-- Cost: pg_stat_database is shared memory; pg_database_size() stats the db's files.
SELECT extract(epoch FROM clock_timestamp())::float8 AS at,
       d.xact_commit, d.xact_rollback,
       d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated, d.tup_deleted,
       d.blks_read, d.blks_hit, d.deadlocks,
       pg_database_size(d.datid) AS size_bytes,
       current_setting('max_connections')::int AS max_connections,
       current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS version
FROM pg_stat_database d
WHERE d.datname = current_database()
