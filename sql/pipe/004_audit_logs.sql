-- pipe/004_audit_logs.sql
-- Seed 002 セキュリティ考慮事項 3. 監査ログ: "重要な操作は audit_logs テーブルに記録
-- / データ変更履歴の追跡". The seed uses audit_logs but never defines it (P2);
-- this definition records who did what to which resource, with the before/after
-- values. Foreign keys use ON DELETE SET NULL so audit rows outlive the user or
-- organization they mention.

CREATE TABLE public.audit_logs (
    id              UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID                     REFERENCES public.organizations (id) ON DELETE SET NULL,
    user_id         UUID                     REFERENCES public.users (id) ON DELETE SET NULL,
    action          VARCHAR(100)             NOT NULL,
    resource_type   VARCHAR(50)              NOT NULL,
    resource_id     TEXT,
    old_values      JSONB,
    new_values      JSONB,
    ip_address      INET,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_audit_logs_org        ON public.audit_logs (organization_id);
CREATE INDEX idx_audit_logs_user       ON public.audit_logs (user_id);
CREATE INDEX idx_audit_logs_resource   ON public.audit_logs (resource_type, resource_id);
CREATE INDEX idx_audit_logs_created_at ON public.audit_logs (created_at);
