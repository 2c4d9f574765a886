-- analytics.error_summary: last 7 days of error_logs joined to request_logs.
SELECT error_code, language_title, error_count, last_occurrence, most_common_status
  FROM analytics.error_summary
 LIMIT %(limit)s
