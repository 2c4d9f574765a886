-- accesslog/003_batch.sql
-- Seed 001 §2.3 (batch_jobs, batch_queue); NOT NULL as in §5.8 / §5.9 (A1).

CREATE TABLE public.batch_jobs (
    id              UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    job_type        VARCHAR(50)              NOT NULL,
    status          VARCHAR(20)              NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    batch_size      INTEGER                  NOT NULL DEFAULT 100,
    processed_count INTEGER                  NOT NULL DEFAULT 0,
    error_count     INTEGER                  NOT NULL DEFAULT 0,
    started_at      TIMESTAMP WITH TIME ZONE,
    completed_at    TIMESTAMP WITH TIME ZONE,
    error_message   TEXT,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at      TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_batch_jobs_status     ON public.batch_jobs (status);
CREATE INDEX idx_batch_jobs_created_at ON public.batch_jobs (created_at);

CREATE TABLE public.batch_queue (
    id            UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    tracking_data JSONB                    NOT NULL,
    priority      INTEGER                  NOT NULL DEFAULT 0,
    retry_count   INTEGER                  NOT NULL DEFAULT 0,
    max_retries   INTEGER                  NOT NULL DEFAULT 3,
    status        VARCHAR(20)              NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
    processed_at  TIMESTAMP WITH TIME ZONE,
    error_message TEXT,
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at    TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_batch_queue_status     ON public.batch_queue (status);
CREATE INDEX idx_batch_queue_priority   ON public.batch_queue (priority);
CREATE INDEX idx_batch_queue_created_at ON public.batch_queue (created_at);
