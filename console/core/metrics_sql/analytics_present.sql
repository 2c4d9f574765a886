-- Which seed-000 analytics views exist here (and whether the materialized view has data).
SELECT to_regclass('analytics.function_performance') IS NOT NULL AS function_performance,
       to_regclass('analytics.error_summary') IS NOT NULL AS error_summary,
       to_regclass('analytics.daily_usage_stats') IS NOT NULL AS daily_usage_stats,
       coalesce((SELECT relispopulated FROM pg_class
                  WHERE oid = to_regclass('analytics.daily_stats_mv')), false) AS daily_stats_mv
