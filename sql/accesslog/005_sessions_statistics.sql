-- accesslog/005_sessions_statistics.sql
-- Seed 001 §2.4 (sessions), §2.5 (daily_statistics, hourly_statistics);
-- NOT NULL as in §5.3 / §5.6 / §5.7 (A1).

CREATE TABLE public.sessions (
    id                    UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id            VARCHAR(100)             UNIQUE NOT NULL,
    application_id        UUID                     NOT NULL REFERENCES public.applications (id),
    app_id                VARCHAR(50)              NOT NULL,
    client_sub_id         VARCHAR(100),
    module_id             VARCHAR(100),
    user_agent            TEXT,
    ip_address            INET,
    first_accessed_at     TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    last_accessed_at      TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    page_views            INTEGER                  NOT NULL DEFAULT 1,
    is_active             BOOLEAN                  NOT NULL DEFAULT true,
    -- セッション全体のカスタムパラメータ
    session_custom_params JSONB
);

CREATE INDEX idx_sessions_session_id       ON public.sessions (session_id);
CREATE INDEX idx_sessions_app_id           ON public.sessions (app_id);
CREATE INDEX idx_sessions_last_accessed_at ON public.sessions (last_accessed_at);
CREATE INDEX idx_sessions_is_active        ON public.sessions (is_active);
CREATE INDEX idx_sessions_custom_params    ON public.sessions USING GIN (session_custom_params);

CREATE TABLE public.daily_statistics (
    id                 UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id     UUID                     NOT NULL REFERENCES public.applications (id),
    app_id             VARCHAR(50)              NOT NULL,
    date               DATE                     NOT NULL,
    total_requests     BIGINT                   NOT NULL DEFAULT 0,
    unique_visitors    BIGINT                   NOT NULL DEFAULT 0,
    unique_sessions    BIGINT                   NOT NULL DEFAULT 0,
    -- カスタムパラメータ別統計
    custom_param_stats JSONB,
    created_at         TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at         TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    UNIQUE (application_id, date)
);

CREATE INDEX idx_daily_statistics_app_id        ON public.daily_statistics (app_id);
CREATE INDEX idx_daily_statistics_date          ON public.daily_statistics (date);
CREATE INDEX idx_daily_statistics_custom_params ON public.daily_statistics USING GIN (custom_param_stats);

CREATE TABLE public.hourly_statistics (
    id                 UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id     UUID                     NOT NULL REFERENCES public.applications (id),
    app_id             VARCHAR(50)              NOT NULL,
    date               DATE                     NOT NULL,
    hour               INTEGER                  NOT NULL CHECK (hour >= 0 AND hour <= 23),
    total_requests     BIGINT                   NOT NULL DEFAULT 0,
    unique_visitors    BIGINT                   NOT NULL DEFAULT 0,
    -- カスタムパラメータ別統計
    custom_param_stats JSONB,
    created_at         TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at         TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    UNIQUE (application_id, date, hour)
);

CREATE INDEX idx_hourly_statistics_app_id        ON public.hourly_statistics (app_id);
CREATE INDEX idx_hourly_statistics_date_hour     ON public.hourly_statistics (date, hour);
CREATE INDEX idx_hourly_statistics_custom_params ON public.hourly_statistics USING GIN (custom_param_stats);
