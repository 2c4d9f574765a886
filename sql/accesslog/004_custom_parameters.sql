-- accesslog/004_custom_parameters.sql
-- Seed 001 §2.3 (second §2.3: custom_parameter_definitions,
-- custom_parameter_values); NOT NULL as in §5.4 / §5.5 (A1).
-- The sample INSERTs of §3 are example data (and their application_id values
-- 'app-uuid-1' are not UUIDs); they are not part of the schema (G4).

CREATE TABLE public.custom_parameter_definitions (
    id               UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id   UUID                     NOT NULL REFERENCES public.applications (id) ON DELETE CASCADE,
    parameter_key    VARCHAR(100)             NOT NULL,
    parameter_name   VARCHAR(255)             NOT NULL,
    parameter_type   VARCHAR(50)              NOT NULL
                     CHECK (parameter_type IN ('string', 'number', 'boolean', 'array', 'object')),
    description      TEXT,
    is_required      BOOLEAN                  NOT NULL DEFAULT false,
    default_value    TEXT,
    validation_rules JSONB,
    created_at       TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at       TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    UNIQUE (application_id, parameter_key)
);

CREATE INDEX idx_custom_param_defs_app_id ON public.custom_parameter_definitions (application_id);
CREATE INDEX idx_custom_param_defs_key    ON public.custom_parameter_definitions (parameter_key);

-- The foreign key to the partitioned access_logs includes the partition key
-- (id, created_at), so it is valid (PostgreSQL 12+) and kept as in the seed.
-- created_at must be the referenced access log's created_at (the DEFAULT NOW()
-- only matches by accident). Operational consequence (note N1 in sql/README.md): an access_logs
-- partition that is still referenced cannot be detached, and DROP TABLE of an
-- attached access_logs partition always fails (the FK depends on it): retention
-- must DETACH (after deleting referencing rows, e.g. by DELETE on the partition,
-- which cascades) and then DROP.
CREATE TABLE public.custom_parameter_values (
    id              UUID                     PRIMARY KEY DEFAULT gen_random_uuid(),
    access_log_id   BIGINT                   NOT NULL,
    application_id  UUID                     NOT NULL REFERENCES public.applications (id) ON DELETE CASCADE,
    parameter_key   VARCHAR(100)             NOT NULL,
    parameter_value TEXT,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    FOREIGN KEY (access_log_id, created_at) REFERENCES public.access_logs (id, created_at) ON DELETE CASCADE
);

CREATE INDEX idx_custom_param_values_log_id    ON public.custom_parameter_values (access_log_id);
CREATE INDEX idx_custom_param_values_app_id    ON public.custom_parameter_values (application_id);
CREATE INDEX idx_custom_param_values_key       ON public.custom_parameter_values (parameter_key);
CREATE INDEX idx_custom_param_values_key_value ON public.custom_parameter_values (parameter_key, parameter_value);
