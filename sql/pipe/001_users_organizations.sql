-- pipe/001_users_organizations.sql
-- Seed 002 テーブル構成: users, organizations, organization_members.
-- CHECK constraints encode the value lists of the seed's "データ型の説明"
-- section, which the DDL did not enforce (P3).

CREATE TABLE public.users (
    id            UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    email         VARCHAR(255)             NOT NULL UNIQUE,
    name          VARCHAR(100)             NOT NULL,
    password_hash VARCHAR(255)             NOT NULL,
    status        VARCHAR(20)              DEFAULT 'active'
                  CHECK (status IN ('active', 'inactive', 'suspended', 'deleted')),
    created_at    TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_users_email ON public.users (email);

CREATE TABLE public.organizations (
    id         UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    name       VARCHAR(100)             NOT NULL,
    plan_type  VARCHAR(50)              DEFAULT 'free',
    status     VARCHAR(20)              DEFAULT 'active'
               CHECK (status IN ('active', 'inactive', 'suspended', 'deleted')),
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE public.organization_members (
    organization_id UUID                     REFERENCES public.organizations (id),
    user_id         UUID                     REFERENCES public.users (id),
    role            VARCHAR(20)              NOT NULL
                    CHECK (role IN ('owner', 'admin', 'member', 'readonly')),
    joined_at       TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (organization_id, user_id)
);
