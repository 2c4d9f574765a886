-- accesslog/002_access_logs.sql
-- Seed 001 §2.2 (access_logs, partitioned by created_at), §4.1 (partition
-- creation function), §5.1 (column table).

CREATE TABLE public.access_logs (
    id                BIGSERIAL,
    application_id    UUID                     NOT NULL,
    app_id            VARCHAR(50)              NOT NULL,
    client_sub_id     VARCHAR(100),
    module_id         VARCHAR(100),
    url               TEXT,
    referrer          TEXT,
    user_agent        TEXT,
    ip_address        INET,
    session_id        VARCHAR(100),
    screen_resolution VARCHAR(20),
    language          VARCHAR(10),
    timezone          VARCHAR(50),
    event_name        VARCHAR(100),
    event_data        JSONB,
    -- カスタムパラメータ対応
    custom_params     JSONB,
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

-- Monthly partitions are named access_logs_YYYY_MM (e.g. access_logs_2024_01);
-- they are created by the console's partition manager or by
-- public.create_monthly_partition() below, not by this file.
CREATE TABLE public.access_logs_default PARTITION OF public.access_logs DEFAULT;

-- Indexes on the parent propagate to every partition, so the seed's
-- per-partition examples (idx_access_logs_2024_01_app_id, ..._created_at) are
-- not needed (A4).
CREATE INDEX idx_access_logs_app_id        ON public.access_logs (app_id);
CREATE INDEX idx_access_logs_session_id    ON public.access_logs (session_id);
CREATE INDEX idx_access_logs_created_at    ON public.access_logs (created_at);
CREATE INDEX idx_access_logs_client_sub_id ON public.access_logs (client_sub_id);
CREATE INDEX idx_access_logs_module_id     ON public.access_logs (module_id);
-- カスタムパラメータ用インデックス
CREATE INDEX idx_access_logs_custom_params ON public.access_logs USING GIN (custom_params);
-- Seed: USING GIN ((custom_params->>'page_type')). ->> yields text and text has
-- no default GIN operator class, so the statement fails. The expression is a
-- scalar used for equality filters: a B-tree expression index under the seed's
-- name serves WHERE custom_params->>'page_type' = ... (A2).
CREATE INDEX idx_access_logs_custom_params_page_type
    ON public.access_logs ((custom_params->>'page_type'));

-- §4.1 パーティション作成関数 (A3). Seed version:
--   format('CREATE TABLE IF NOT EXISTS access_logs_%s ...', year_month, ...)
-- with year_month = '2024-03' produced the identifier access_logs_2024-03,
-- a syntax error (unquoted '-'), and not the access_logs_YYYY_MM naming of §2.2.
-- Corrected: validates 'YYYY-MM', names the partition access_logs_YYYY_MM via
-- %I, and bounds it on UTC month starts (§1.1: タイムゾーン UTC) independent
-- of the session TimeZone. Returns VOID like the seed. It fails (and changes
-- nothing) if access_logs_default already holds rows of that month; move them
-- out first. The seed's example call SELECT create_monthly_partition('2024-03')
-- is not run here (no monthly partitions are created by sql/).
CREATE OR REPLACE FUNCTION public.create_monthly_partition(year_month TEXT)
RETURNS VOID AS $$
DECLARE
    start_date     DATE;
    partition_name TEXT;
BEGIN
    IF year_month IS NULL OR year_month !~ '^\d{4}-(0[1-9]|1[0-2])$' THEN
        RAISE EXCEPTION 'year_month must be YYYY-MM (got %)', year_month;
    END IF;

    start_date     := to_date(year_month || '-01', 'YYYY-MM-DD');
    partition_name := 'access_logs_' || to_char(start_date, 'YYYY_MM');

    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS public.%I PARTITION OF public.access_logs '
        'FOR VALUES FROM (%L) TO (%L)',
        partition_name,
        to_char(start_date, 'YYYY-MM-DD') || ' 00:00:00+00',
        to_char((start_date + INTERVAL '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00'
    );
END;
$$ LANGUAGE plpgsql;
