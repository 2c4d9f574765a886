-- pipe/002_pipelines.sql
-- Seed 002 テーブル構成: pipelines, pipeline_runs; パーティショニング戦略
-- (pipeline_runs monthly, PARTITION BY RANGE (started_at)).

CREATE TABLE public.pipelines (
    id              UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID                     REFERENCES public.organizations (id),
    name            VARCHAR(100)             NOT NULL,
    description     TEXT,
    config          JSONB                    NOT NULL,
    status          VARCHAR(20)              DEFAULT 'active'
                    CHECK (status IN ('active', 'inactive', 'suspended', 'deleted')),
    created_by      UUID                     REFERENCES public.users (id),
    created_at      TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at      TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_pipelines_org ON public.pipelines (organization_id);

-- The seed defines pipeline_runs twice: a plain table with PRIMARY KEY (id),
-- and a partitioned one "PARTITION BY RANGE (started_at)" with the columns
-- elided ("-- 既存の列定義"). Combined here (P1): the primary key must include
-- the partition key, so it is (id, started_at), and started_at becomes NOT NULL
-- (a row without it could not be routed to a monthly partition).
CREATE TABLE public.pipeline_runs (
    id            UUID                     NOT NULL DEFAULT gen_random_uuid(),
    pipeline_id   UUID                     REFERENCES public.pipelines (id),
    status        VARCHAR(20)              NOT NULL
                  CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    started_at    TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
    completed_at  TIMESTAMP WITH TIME ZONE,
    error_message TEXT,
    metrics       JSONB,
    created_by    UUID                     REFERENCES public.users (id),
    PRIMARY KEY (id, started_at)
) PARTITION BY RANGE (started_at);

-- Monthly partitions are named pipeline_runs_yYYYYmMM (e.g. pipeline_runs_y2024m03),
-- created by the console's partition manager, not by this file.
CREATE TABLE public.pipeline_runs_default PARTITION OF public.pipeline_runs DEFAULT;

-- Indexes on the parent propagate to every partition.
CREATE INDEX idx_pipeline_runs_pipeline ON public.pipeline_runs (pipeline_id);
CREATE INDEX idx_pipeline_runs_status   ON public.pipeline_runs (status);
