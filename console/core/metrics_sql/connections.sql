-- Client connections by state, server-wide (what counts against max_connections) and
-- in this database.
SELECT coalesce(state, 'unknown') AS state,
       count(*)::int AS server,
       (count(*) FILTER (WHERE datname = current_database()))::int AS here
FROM pg_stat_activity
WHERE backend_type = 'client backend'
GROUP BY 1
ORDER BY 2 DESC, 1
