-- pipe/003_storage_api_keys.sql
-- Seed 002 テーブル構成: storage_files, api_keys.

CREATE TABLE public.storage_files (
    id              UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID                     REFERENCES public.organizations (id),
    path            VARCHAR(500)             NOT NULL,
    size            BIGINT                   NOT NULL,
    mime_type       VARCHAR(100),
    metadata        JSONB,
    created_by      UUID                     REFERENCES public.users (id),
    created_at      TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_storage_files_org  ON public.storage_files (organization_id);
CREATE INDEX idx_storage_files_path ON public.storage_files (path);

CREATE TABLE public.api_keys (
    id              UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id UUID                     REFERENCES public.organizations (id),
    name            VARCHAR(100)             NOT NULL,
    key_hash        VARCHAR(255)             NOT NULL,
    last_used_at    TIMESTAMP WITH TIME ZONE,
    created_by      UUID                     REFERENCES public.users (id),
    created_at      TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    expires_at      TIMESTAMP WITH TIME ZONE
);

CREATE INDEX idx_api_keys_org ON public.api_keys (organization_id);
