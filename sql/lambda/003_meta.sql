-- lambda/003_meta.sql
-- Seed 000 §3.2 (meta.functions), §3.6 (meta.users), §3.7 (meta.sessions and its
-- function/trigger), §5.1 (meta.update_timestamp and its triggers),
-- §8.2 (row level security on meta.users), §10.1 (meta.schema_version).

-- §3.2
CREATE TABLE meta.functions (
    id                UUID         PRIMARY KEY DEFAULT gen_random_uuid(),
    language          VARCHAR(32)  NOT NULL,
    title             VARCHAR(64)  NOT NULL,
    language_title    VARCHAR(128) NOT NULL UNIQUE,
    description       TEXT,
    schema_definition JSONB,
    examples          JSONB,
    created_at        TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    updated_at        TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    created_by        VARCHAR(128),
    is_active         BOOLEAN      NOT NULL DEFAULT TRUE,
    version           VARCHAR(32)  NOT NULL DEFAULT '1.0.0',
    tags              VARCHAR(64)[]
);

CREATE INDEX idx_functions_language       ON meta.functions (language);
CREATE INDEX idx_functions_language_title ON meta.functions (language_title);
CREATE INDEX idx_functions_is_active      ON meta.functions (is_active);
CREATE INDEX idx_functions_tags           ON meta.functions USING GIN (tags);

-- §3.6
CREATE TABLE meta.users (
    id                    UUID         PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id               VARCHAR(128) UNIQUE NOT NULL,
    name                  VARCHAR(256),
    email                 VARCHAR(256),
    api_key_hash          VARCHAR(128) UNIQUE,
    created_at            TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    updated_at            TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    last_active_at        TIMESTAMPTZ,
    is_active             BOOLEAN      NOT NULL DEFAULT TRUE,
    rate_limit_per_minute INTEGER      NOT NULL DEFAULT 100,
    allowed_languages     VARCHAR(32)[],
    role                  VARCHAR(32)  NOT NULL DEFAULT 'user'
);

CREATE INDEX idx_users_user_id      ON meta.users (user_id);
CREATE INDEX idx_users_api_key_hash ON meta.users (api_key_hash);
CREATE INDEX idx_users_is_active    ON meta.users (is_active);

-- §3.7
CREATE TABLE meta.sessions (
    request_id       VARCHAR(64)  PRIMARY KEY,
    language_title   VARCHAR(128) NOT NULL,
    user_id          VARCHAR(128) REFERENCES meta.users (user_id),
    created_at       TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    expires_at       TIMESTAMPTZ  NOT NULL,
    last_executed_at TIMESTAMPTZ,
    execution_count  INTEGER      NOT NULL DEFAULT 0,
    status           VARCHAR(16)  NOT NULL DEFAULT 'active',
    context          JSONB,
    metadata         JSONB
);

CREATE INDEX idx_sessions_language_title ON meta.sessions (language_title);
CREATE INDEX idx_sessions_user_id        ON meta.sessions (user_id);
CREATE INDEX idx_sessions_status         ON meta.sessions (status);
CREATE INDEX idx_sessions_expires_at     ON meta.sessions (expires_at);

-- 有効期限切れセッションクリーンアップ関数 (L4)
-- Seed: "DELETE ... RETURNING COUNT(*) INTO deleted_count" does not compile
-- (aggregates are not allowed in RETURNING), and the UPDATE ... SET
-- status = 'expired' that followed matched the rows the DELETE had just removed,
-- so it never changed anything. Corrected: delete expired active sessions and
-- return how many were deleted (GET DIAGNOSTICS ROW_COUNT).
CREATE OR REPLACE FUNCTION meta.cleanup_expired_sessions()
RETURNS INTEGER AS $$
DECLARE
    deleted_count INTEGER;
BEGIN
    DELETE FROM meta.sessions
    WHERE expires_at < NOW()
      AND status = 'active';
    GET DIAGNOSTICS deleted_count = ROW_COUNT;

    RETURN deleted_count;
END;
$$ LANGUAGE plpgsql;

-- セッション更新関数 (L5)
-- Seed: the trigger only fires WHEN (NEW.execution_count > OLD.execution_count),
-- i.e. after the caller already incremented the counter; the seed's function then
-- added 1 again, counting every execution twice. Corrected: stamp
-- last_executed_at and keep the caller's count.
CREATE OR REPLACE FUNCTION meta.update_session_on_execute()
RETURNS TRIGGER AS $$
BEGIN
    NEW.last_executed_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER update_session_on_execute
BEFORE UPDATE ON meta.sessions
FOR EACH ROW
WHEN (NEW.execution_count > OLD.execution_count)
EXECUTE FUNCTION meta.update_session_on_execute();

-- §5.1 更新タイムスタンプ自動化
CREATE OR REPLACE FUNCTION meta.update_timestamp()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER update_functions_timestamp
BEFORE UPDATE ON meta.functions
FOR EACH ROW
EXECUTE FUNCTION meta.update_timestamp();

CREATE TRIGGER update_users_timestamp
BEFORE UPDATE ON meta.users
FOR EACH ROW
EXECUTE FUNCTION meta.update_timestamp();

-- §8.2 行レベルセキュリティ (policies as in the seed; roles of §7.1/§8.1 are
-- cluster-level objects and are not created here, see G2). The table owner
-- bypasses these policies.
ALTER TABLE meta.users ENABLE ROW LEVEL SECURITY;

CREATE POLICY user_view_own ON meta.users
    FOR SELECT
    USING (user_id = current_setting('app.current_user_id', TRUE));

CREATE POLICY admin_view_all ON meta.users
    FOR ALL
    USING (current_setting('app.current_role', TRUE) = 'admin');

-- §10.1 バージョン管理テーブル (table only; the seed's initial INSERT is data, G4)
CREATE TABLE meta.schema_version (
    id          SERIAL       PRIMARY KEY,
    version     VARCHAR(32)  NOT NULL,
    description TEXT         NOT NULL,
    applied_at  TIMESTAMPTZ  NOT NULL DEFAULT NOW(),
    applied_by  VARCHAR(128) NOT NULL
);
