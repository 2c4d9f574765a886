-- lambda/002_request_logs.sql
-- Seed 000 §3.1 (request_logs, partitioned variant) and §3.4 (error_logs).

-- §3.1: the partitioned definition is the one used (L2). The seed's partitioned
-- variant dropped the id default and put the primary key on each partition;
-- here the default is kept and the primary key (id, timestamp) is declared on
-- the parent so every partition inherits it.
CREATE TABLE public.request_logs (
    id               UUID         NOT NULL DEFAULT gen_random_uuid(),
    request_id       VARCHAR(64)  NOT NULL,
    language_title   VARCHAR(128) NOT NULL,
    timestamp        TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    client_ip        VARCHAR(45),
    user_id          VARCHAR(128),
    request_headers  JSONB,
    request_payload  JSONB,
    response_payload JSONB,
    status_code      INTEGER      NOT NULL,
    duration_ms      INTEGER      NOT NULL,
    cached           BOOLEAN      NOT NULL DEFAULT FALSE,
    error_details    JSONB,
    runtime_metrics  JSONB,
    CONSTRAINT request_logs_pkey PRIMARY KEY (id, timestamp)
) PARTITION BY RANGE (timestamp);

-- Monthly partitions are named request_logs_yYYYYmMM (e.g. request_logs_y2025m01)
-- and are created by the console's partition manager, not by this file.
-- Rows outside every monthly range land here instead of failing the insert.
CREATE TABLE public.request_logs_default PARTITION OF public.request_logs DEFAULT;

-- Indexes on the parent propagate to every partition (existing and future).
CREATE INDEX idx_request_logs_timestamp      ON public.request_logs (timestamp);
CREATE INDEX idx_request_logs_language_title ON public.request_logs (language_title);
CREATE INDEX idx_request_logs_status_code    ON public.request_logs (status_code);
CREATE INDEX idx_request_logs_user_id        ON public.request_logs (user_id);
CREATE INDEX idx_request_logs_request_id     ON public.request_logs (request_id);
CREATE INDEX idx_request_logs_cached         ON public.request_logs (cached);

-- §3.4: the seed's "REFERENCES public.request_logs(id)" cannot be created:
-- request_logs is partitioned, so no unique constraint on id alone can exist
-- (it must include the partition key). The column is kept, NOT NULL and
-- indexed, without a foreign key (L3).
CREATE TABLE public.error_logs (
    id             UUID        PRIMARY KEY DEFAULT gen_random_uuid(),
    request_log_id UUID        NOT NULL,   -- logical reference to request_logs.id
    timestamp      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    error_code     VARCHAR(64) NOT NULL,
    error_message  TEXT        NOT NULL,
    stack_trace    TEXT,
    context        JSONB
);

CREATE INDEX idx_error_logs_request_log_id ON public.error_logs (request_log_id);
CREATE INDEX idx_error_logs_error_code     ON public.error_logs (error_code);
CREATE INDEX idx_error_logs_timestamp      ON public.error_logs (timestamp);
