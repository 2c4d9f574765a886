-- When the statistics were last reset (pg_stat_statements_info, extension 1.9+).
SELECT stats_reset FROM {schema}.pg_stat_statements_info
