-- analytics.daily_usage_stats for the last days: the view groups the whole of
-- request_logs; the day filter is applied below its aggregate but cannot prune
-- partitions, so this is the most expensive query of the screen (slow cadence, own timeout).
SELECT day, language_title, total_requests, error_requests, avg_duration_ms
  FROM analytics.daily_usage_stats
 WHERE day >= date_trunc('day', now()) - make_interval(days => %(days)s)
 ORDER BY day, language_title
