-- accesslog/006_api_keys_webhooks.sql
-- Seed 001 §2.6 (api_keys, webhooks); NOT NULL as in §5.10 / §5.11 (A1).

CREATE TABLE public.api_keys (
    id             UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id UUID                     NOT NULL REFERENCES public.applications (id) ON DELETE CASCADE,
    key_hash       VARCHAR(255)             UNIQUE NOT NULL,
    name           VARCHAR(255),
    permissions    JSONB                    NOT NULL DEFAULT '{}',
    last_used_at   TIMESTAMP WITH TIME ZONE,
    expires_at     TIMESTAMP WITH TIME ZONE,
    is_active      BOOLEAN                  NOT NULL DEFAULT true,
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_api_keys_key_hash       ON public.api_keys (key_hash);
CREATE INDEX idx_api_keys_application_id ON public.api_keys (application_id);

CREATE TABLE public.webhooks (
    id                UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id    UUID                     NOT NULL REFERENCES public.applications (id) ON DELETE CASCADE,
    url               TEXT                     NOT NULL,
    events            JSONB                    NOT NULL,
    secret            VARCHAR(255),
    is_active         BOOLEAN                  NOT NULL DEFAULT true,
    last_triggered_at TIMESTAMP WITH TIME ZONE,
    failure_count     INTEGER                  NOT NULL DEFAULT 0,
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at        TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_webhooks_application_id ON public.webhooks (application_id);
CREATE INDEX idx_webhooks_is_active      ON public.webhooks (is_active);
