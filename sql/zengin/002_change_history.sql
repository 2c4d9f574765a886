-- zengin/002_change_history.sql
-- Seed 003 PostgreSQL連携 / トランザクション制御 / 差分実行処理: the executor
-- inserts into change_history (diff_id, operation_type, table_name, record_id,
-- old_values, new_values, executed_at) but the seed never defines the table
-- (Z1). データ保持ポリシー: 変更履歴は1年間保持.
--
-- One row per executed diff, written in the same transaction as the bank/branch
-- changes. The DynamoDB key of a diff is (id, timestamp); UNIQUE (diff_id,
-- diff_timestamp) makes a replayed execution conflict (ON CONFLICT DO NOTHING or a
-- unique violation) instead of applying twice,
-- and lets `reconcile` decide whether a diff left in "executing" committed.
-- diff_timestamp is TEXT: it is the DynamoDB sort key, an ISO-8601 string that
-- must be matched exactly (no time-zone/precision normalisation).
--   diff_id        DynamoDB id, e.g. diff-20240101-001
--   operation_type the diff's diffType (addition / update / deletion / bulk_update)
--   table_name     table(s) touched: banks, branches (or both for a bulk diff)
--   record_id      key of the row touched (bank code, or bank code + branch code)
--   old_values     currentData (the rows as they were)
--   new_values     zenginData (the rows as applied)

CREATE TABLE public.change_history (
    id             BIGSERIAL    PRIMARY KEY,
    diff_id        TEXT         NOT NULL,
    diff_timestamp TEXT         NOT NULL,
    operation_type TEXT         NOT NULL,
    table_name     TEXT         NOT NULL,
    record_id      TEXT,
    old_values     JSONB,
    new_values     JSONB,
    executed_by    TEXT,
    executed_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    rows_affected  INTEGER,
    CONSTRAINT change_history_diff_key UNIQUE (diff_id, diff_timestamp)
);

CREATE INDEX idx_change_history_executed_at ON public.change_history (executed_at);
CREATE INDEX idx_change_history_table_record ON public.change_history (table_name, record_id);
