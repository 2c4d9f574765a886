-- learning/002_learning_sessions.sql
-- Seed 004 PostgreSQL（マスターデータストア） (learning_sessions),
-- パフォーマンス最適化 / データベース最適化 (partitioning, composite index),
-- セキュリティ考慮 / アクセス制御 (row level security).

-- The seed creates learning_sessions as a plain table with PRIMARY KEY (id) and
-- later runs CREATE TABLE learning_sessions_2025_01 PARTITION OF
-- learning_sessions, which fails on a non-partitioned table (E1). Declared
-- partitioned by started_at; the primary key includes the partition key and
-- started_at is NOT NULL.
CREATE TABLE public.learning_sessions (
    id                UUID                     NOT NULL DEFAULT gen_random_uuid(),
    user_id           UUID                     REFERENCES public.users (id),
    notebook_id       UUID                     REFERENCES public.notebooks (id),
    started_at        TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    ended_at          TIMESTAMP WITH TIME ZONE,
    total_duration_ms BIGINT,
    cell_executions   INTEGER                  DEFAULT 0,
    error_count       INTEGER                  DEFAULT 0,
    PRIMARY KEY (id, started_at)
) PARTITION BY RANGE (started_at);

-- Monthly partitions follow the seed's example name learning_sessions_YYYY_MM
-- (e.g. learning_sessions_2025_01); they are created by the console's partition
-- manager, not by this file.
CREATE TABLE public.learning_sessions_default PARTITION OF public.learning_sessions DEFAULT;

-- Indexes on the parent propagate to every partition.
CREATE INDEX idx_sessions_user_notebook ON public.learning_sessions (user_id, notebook_id);
CREATE INDEX idx_sessions_started_at    ON public.learning_sessions (started_at);
-- Seed: CREATE INDEX CONCURRENTLY. CONCURRENTLY cannot run inside a transaction
-- block and is not supported on partitioned tables (E2).
CREATE INDEX idx_sessions_composite
    ON public.learning_sessions (user_id, started_at DESC, notebook_id);

-- 行レベルセキュリティ (E3). Seed: FOR ALL TO app_user USING (user_id =
-- current_setting('app.current_user_id')::uuid). The role app_user is created
-- nowhere (roles are cluster-level and not managed by sql/, see G2), so the
-- policy applies TO PUBLIC; and current_setting without missing_ok raises an
-- error in every session that has not set app.current_user_id, so the setting
-- is read with missing_ok and an unset/empty value matches no row. The table
-- owner bypasses the policy.
ALTER TABLE public.learning_sessions ENABLE ROW LEVEL SECURITY;

CREATE POLICY user_data_policy ON public.learning_sessions
    FOR ALL TO PUBLIC
    USING (user_id = NULLIF(current_setting('app.current_user_id', TRUE), '')::uuid);
