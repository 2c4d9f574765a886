-- learning/001_users_notebooks.sql
-- Seed 004 ハイブリッドデータベース構成 / PostgreSQL（マスターデータストア）:
-- users, notebooks. (InfluxDB measurements and Redis keys of the same seed are
-- not PostgreSQL objects.)

CREATE TABLE public.users (
    id           UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    username     VARCHAR(100)             UNIQUE NOT NULL,
    display_name VARCHAR(200),
    role         VARCHAR(50)              DEFAULT 'student',
    created_at   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at   TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE TABLE public.notebooks (
    id          UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    path        VARCHAR(500)             UNIQUE NOT NULL,
    title       VARCHAR(200),
    description TEXT,
    cell_count  INTEGER                  DEFAULT 0,
    created_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE INDEX idx_users_username ON public.users (username);
CREATE INDEX idx_notebooks_path ON public.notebooks (path);
