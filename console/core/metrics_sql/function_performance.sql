-- analytics.function_performance: last 7 days of request_logs per function (scans them).
SELECT language_title, total_requests, avg_duration_ms, p95_duration_ms, p99_duration_ms,
       error_count, cache_hit_ratio
  FROM analytics.function_performance
 LIMIT %(limit)s
