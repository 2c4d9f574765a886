-- analytics.daily_stats_mv: the materialized copy of daily_usage_stats (cheap, as fresh
-- as its last REFRESH).
SELECT day, language_title, total_requests, error_requests, avg_duration_ms
  FROM analytics.daily_stats_mv
 WHERE day >= date_trunc('day', now()) - make_interval(days => %(days)s)
 ORDER BY day, language_title
