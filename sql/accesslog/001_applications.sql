-- accesslog/001_applications.sql
-- Seed 001 §2.1 (applications, application_settings); NOT NULL as in the column
-- tables of §5.2 (the §2 DDL omitted NOT NULL on columns that have defaults, A1).
-- gen_random_uuid() is core since PostgreSQL 13 (Aurora PostgreSQL 14+ per §1.1).

CREATE TABLE public.applications (
    id                    UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    app_id                VARCHAR(50)              UNIQUE NOT NULL,
    name                  VARCHAR(255)             NOT NULL,
    description           TEXT,
    domain                VARCHAR(255),
    api_key_hash          VARCHAR(255)             NOT NULL,
    status                VARCHAR(20)              NOT NULL DEFAULT 'active'
                          CHECK (status IN ('active', 'inactive', 'suspended')),
    rate_limit_per_minute INTEGER                  NOT NULL DEFAULT 1000,
    created_at            TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at            TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    deleted_at            TIMESTAMP WITH TIME ZONE
);

CREATE INDEX idx_applications_app_id     ON public.applications (app_id);
CREATE INDEX idx_applications_status     ON public.applications (status);
CREATE INDEX idx_applications_created_at ON public.applications (created_at);

-- §2.1 application_settings (no §5 column table: DDL kept as written)
CREATE TABLE public.application_settings (
    id             UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id UUID                     NOT NULL REFERENCES public.applications (id) ON DELETE CASCADE,
    setting_key    VARCHAR(100)             NOT NULL,
    setting_value  TEXT,
    created_at     TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at     TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    UNIQUE (application_id, setting_key)
);

CREATE INDEX idx_application_settings_app_id ON public.application_settings (application_id);
