-- lambda/004_analytics.sql
-- Seed 000 §3.3 (analytics.runtime_metrics), §3.5 (analytics.cache_metrics),
-- §4 (views), §9.2 (materialized view), §5.2 and §6.2 (functions).

-- §3.3
CREATE TABLE analytics.runtime_metrics (
    id                UUID         PRIMARY KEY DEFAULT gen_random_uuid(),
    timestamp         TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    language_title    VARCHAR(128) NOT NULL,
    avg_duration_ms   FLOAT        NOT NULL,
    p50_duration_ms   FLOAT        NOT NULL,
    p90_duration_ms   FLOAT        NOT NULL,
    p95_duration_ms   FLOAT        NOT NULL,
    p99_duration_ms   FLOAT        NOT NULL,
    request_count     INTEGER      NOT NULL,
    error_count       INTEGER      NOT NULL,
    cache_hit_count   INTEGER      NOT NULL,
    memory_usage_mb   FLOAT,
    cpu_usage_percent FLOAT
);

CREATE INDEX idx_runtime_metrics_timestamp      ON analytics.runtime_metrics (timestamp);
CREATE INDEX idx_runtime_metrics_language_title ON analytics.runtime_metrics (language_title);

-- §3.5
CREATE TABLE analytics.cache_metrics (
    id                   UUID         PRIMARY KEY DEFAULT gen_random_uuid(),
    timestamp            TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    language_title       VARCHAR(128) NOT NULL,
    cache_hits           INTEGER      NOT NULL,
    cache_misses         INTEGER      NOT NULL,
    cache_hit_ratio      FLOAT        NOT NULL,
    avg_cache_latency_ms FLOAT        NOT NULL,
    evictions            INTEGER      NOT NULL,
    memory_usage_mb      FLOAT        NOT NULL
);

CREATE INDEX idx_cache_metrics_timestamp      ON analytics.cache_metrics (timestamp);
CREATE INDEX idx_cache_metrics_language_title ON analytics.cache_metrics (language_title);

-- §4.1 日次使用統計
CREATE VIEW analytics.daily_usage_stats AS
SELECT
    DATE_TRUNC('day', timestamp) AS day,
    language_title,
    COUNT(*) AS total_requests,
    COUNT(*) FILTER (WHERE status_code >= 200 AND status_code < 300) AS successful_requests,
    COUNT(*) FILTER (WHERE status_code >= 400) AS error_requests,
    COUNT(*) FILTER (WHERE cached = TRUE) AS cached_requests,
    AVG(duration_ms) AS avg_duration_ms,
    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_duration_ms,
    PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99_duration_ms,
    COUNT(DISTINCT user_id) AS unique_users
FROM
    public.request_logs
GROUP BY
    DATE_TRUNC('day', timestamp),
    language_title
ORDER BY
    day DESC,
    total_requests DESC;

-- §4.2 関数ごとのパフォーマンス統計
CREATE VIEW analytics.function_performance AS
SELECT
    language_title,
    COUNT(*) AS total_requests,
    AVG(duration_ms) AS avg_duration_ms,
    PERCENTILE_CONT(0.50) WITHIN GROUP (ORDER BY duration_ms) AS p50_duration_ms,
    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_duration_ms,
    PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99_duration_ms,
    MIN(duration_ms) AS min_duration_ms,
    MAX(duration_ms) AS max_duration_ms,
    COUNT(*) FILTER (WHERE status_code >= 400) AS error_count,
    COUNT(*) FILTER (WHERE cached = TRUE) AS cache_hit_count,
    ROUND((COUNT(*) FILTER (WHERE cached = TRUE))::NUMERIC / COUNT(*)::NUMERIC * 100, 2) AS cache_hit_ratio
FROM
    public.request_logs
WHERE
    timestamp > NOW() - INTERVAL '7 days'
GROUP BY
    language_title
ORDER BY
    total_requests DESC;

-- §4.3 エラー概要 (joins on request_log_id = id; there is no FK any more, L3)
CREATE VIEW analytics.error_summary AS
SELECT
    e.error_code,
    COUNT(*) AS error_count,
    MIN(e.timestamp) AS first_occurrence,
    MAX(e.timestamp) AS last_occurrence,
    r.language_title,
    MODE() WITHIN GROUP (ORDER BY r.status_code) AS most_common_status
FROM
    public.error_logs e
JOIN
    public.request_logs r ON e.request_log_id = r.id
WHERE
    e.timestamp > NOW() - INTERVAL '7 days'
GROUP BY
    e.error_code,
    r.language_title
ORDER BY
    error_count DESC;

-- §9.2 マテリアライズドビュー
CREATE MATERIALIZED VIEW analytics.daily_stats_mv AS
SELECT * FROM analytics.daily_usage_stats;

-- The seed refreshes it with REFRESH MATERIALIZED VIEW CONCURRENTLY, which
-- requires a unique index on the materialized view; the seed defines none (L8).
-- (day, language_title) is the GROUP BY key of daily_usage_stats, so it is unique.
CREATE UNIQUE INDEX idx_daily_stats_mv_day_language_title
    ON analytics.daily_stats_mv (day, language_title);

-- §5.2 日次メトリクス集計関数 (L6)
-- Corrections: avg_cache_latency_ms is NOT NULL but AVG(CASE WHEN cached ...)
-- is NULL for a function with no cached request that day -> COALESCE(..., 0);
-- DATE(timestamp) = target_date replaced by the equivalent half-open range so
-- the planner can prune request_logs partitions and use the timestamp index.
CREATE OR REPLACE FUNCTION analytics.aggregate_daily_metrics()
RETURNS void AS $$
DECLARE
    target_date DATE := CURRENT_DATE - 1; -- 前日
BEGIN
    -- ランタイムメトリクス集計
    INSERT INTO analytics.runtime_metrics (
        timestamp,
        language_title,
        avg_duration_ms,
        p50_duration_ms,
        p90_duration_ms,
        p95_duration_ms,
        p99_duration_ms,
        request_count,
        error_count,
        cache_hit_count,
        memory_usage_mb,
        cpu_usage_percent
    )
    SELECT
        DATE_TRUNC('day', r.timestamp) AS day,
        r.language_title,
        AVG(r.duration_ms) AS avg_duration_ms,
        PERCENTILE_CONT(0.50) WITHIN GROUP (ORDER BY r.duration_ms) AS p50_duration_ms,
        PERCENTILE_CONT(0.90) WITHIN GROUP (ORDER BY r.duration_ms) AS p90_duration_ms,
        PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY r.duration_ms) AS p95_duration_ms,
        PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY r.duration_ms) AS p99_duration_ms,
        COUNT(*) AS request_count,
        COUNT(*) FILTER (WHERE r.status_code >= 400) AS error_count,
        COUNT(*) FILTER (WHERE r.cached = TRUE) AS cache_hit_count,
        AVG((r.runtime_metrics->>'memory_usage_mb')::FLOAT) AS memory_usage_mb,
        AVG((r.runtime_metrics->>'cpu_usage_percent')::FLOAT) AS cpu_usage_percent
    FROM
        public.request_logs r
    WHERE
        r.timestamp >= target_date
        AND r.timestamp < target_date + 1
    GROUP BY
        DATE_TRUNC('day', r.timestamp),
        r.language_title;

    -- キャッシュメトリクス集計
    INSERT INTO analytics.cache_metrics (
        timestamp,
        language_title,
        cache_hits,
        cache_misses,
        cache_hit_ratio,
        avg_cache_latency_ms,
        evictions,
        memory_usage_mb
    )
    SELECT
        DATE_TRUNC('day', r.timestamp) AS day,
        r.language_title,
        COUNT(*) FILTER (WHERE r.cached = TRUE) AS cache_hits,
        COUNT(*) FILTER (WHERE r.cached = FALSE) AS cache_misses,
        CASE
            WHEN COUNT(*) > 0 THEN
                ROUND((COUNT(*) FILTER (WHERE r.cached = TRUE))::NUMERIC / COUNT(*)::NUMERIC, 4)
            ELSE 0
        END AS cache_hit_ratio,
        COALESCE(AVG(CASE WHEN r.cached = TRUE THEN r.duration_ms ELSE NULL END), 0) AS avg_cache_latency_ms,
        0 AS evictions,       -- 実際のRedisメトリクスから取得する必要あり
        0 AS memory_usage_mb  -- 実際のRedisメトリクスから取得する必要あり
    FROM
        public.request_logs r
    WHERE
        r.timestamp >= target_date
        AND r.timestamp < target_date + 1
    GROUP BY
        DATE_TRUNC('day', r.timestamp),
        r.language_title;
END;
$$ LANGUAGE plpgsql;

-- §6.2 古い集計データを削除するポリシー
CREATE OR REPLACE FUNCTION analytics.cleanup_old_metrics(retention_days INTEGER)
RETURNS void AS $$
BEGIN
    -- ランタイムメトリクスのクリーンアップ
    DELETE FROM analytics.runtime_metrics
    WHERE timestamp < CURRENT_DATE - retention_days;

    -- キャッシュメトリクスのクリーンアップ
    DELETE FROM analytics.cache_metrics
    WHERE timestamp < CURRENT_DATE - retention_days;

    RAISE NOTICE 'Cleaned up metrics older than % days', retention_days;
END;
$$ LANGUAGE plpgsql;
