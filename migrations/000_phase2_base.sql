-- Phase 2 base schema: tests, executions, execution_settings, system_config.
--
-- Written to adopt an existing Phase 2 database as well as to create a new
-- one: every CREATE is IF NOT EXISTS, the columns the engine needs are added
-- with ADD COLUMN IF NOT EXISTS (nullable or with defaults), and seed rows use ON CONFLICT DO NOTHING, so rows
-- already there are left exactly as they are.

-- The spec's GRANTs name this role; create it if the cluster lacks it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_user') THEN
        CREATE ROLE app_user NOLOGIN;
    END IF;
END $$;

CREATE TABLE IF NOT EXISTS tests (
    id    BIGSERIAL PRIMARY KEY,
    name  TEXT NOT NULL,
    code  TEXT NOT NULL
);
ALTER TABLE tests
    ADD COLUMN IF NOT EXISTS kind VARCHAR(20) NOT NULL DEFAULT 'unit' CHECK (kind IN ('unit', 'browser')),
    ADD COLUMN IF NOT EXISTS repository TEXT,
    ADD COLUMN IF NOT EXISTS file_path TEXT,
    ADD COLUMN IF NOT EXISTS created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

CREATE TABLE IF NOT EXISTS executions (
    id       BIGSERIAL PRIMARY KEY,
    test_id  BIGINT REFERENCES tests(id) ON DELETE SET NULL,
    status   VARCHAR(20) NOT NULL DEFAULT 'pending'
             CHECK (status IN ('pending', 'running', 'success', 'failed', 'error', 'timeout'))
);
ALTER TABLE executions
    ADD COLUMN IF NOT EXISTS execution_strategy VARCHAR(40) NOT NULL DEFAULT 'tier1_to_tier2_to_tier3',
    ADD COLUMN IF NOT EXISTS tier_reached SMALLINT CHECK (tier_reached BETWEEN 1 AND 3),
    ADD COLUMN IF NOT EXISTS attempts JSONB NOT NULL DEFAULT '[]'::jsonb,  -- one object per tier tried
    ADD COLUMN IF NOT EXISTS result JSONB,                                 -- per-test outcomes
    ADD COLUMN IF NOT EXISTS coverage JSONB,                               -- measured line/branch coverage
    ADD COLUMN IF NOT EXISTS healed_code TEXT,
    ADD COLUMN IF NOT EXISTS healed_diff TEXT,
    ADD COLUMN IF NOT EXISTS error TEXT,
    ADD COLUMN IF NOT EXISTS created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN IF NOT EXISTS started_at TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS completed_at TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS idx_executions_status ON executions(status);
CREATE INDEX IF NOT EXISTS idx_executions_created ON executions(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_executions_test ON executions(test_id);

CREATE TABLE IF NOT EXISTS execution_settings (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    fallback_strategy  VARCHAR(40) NOT NULL DEFAULT 'tier1_to_tier2_to_tier3'
);
ALTER TABLE execution_settings
    ADD COLUMN IF NOT EXISTS timeout_seconds INTEGER NOT NULL DEFAULT 60
        CHECK (timeout_seconds BETWEEN 1 AND 3600),
    ADD COLUMN IF NOT EXISTS memory_limit_mb INTEGER NOT NULL DEFAULT 1024
        CHECK (memory_limit_mb BETWEEN 64 AND 65536),
    ADD COLUMN IF NOT EXISTS max_retries INTEGER NOT NULL DEFAULT 1
        CHECK (max_retries BETWEEN 0 AND 10),
    ADD COLUMN IF NOT EXISTS heal_match_threshold REAL NOT NULL DEFAULT 0.75
        CHECK (heal_match_threshold BETWEEN 0 AND 1),
    ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
INSERT INTO execution_settings (id, fallback_strategy) VALUES (1, 'tier1_to_tier2_to_tier3')
ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS system_config (
    key    VARCHAR(100) PRIMARY KEY,
    value  TEXT NOT NULL
);
ALTER TABLE system_config
    ADD COLUMN IF NOT EXISTS description TEXT,
    ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

INSERT INTO system_config (key, value, description) VALUES
    ('agents_enabled', 'false', 'Feature flag: route generation to the Phase 3 agents'),
    ('rollout_mode', 'off', 'off | shadow | percentage | full'),
    ('rollout_percentage', '0', 'Share of requests (0-100) sent to agents in percentage mode'),
    ('rollout_salt', md5(random()::text || clock_timestamp()::text), 'Salt of the sticky rollout hash')
ON CONFLICT (key) DO NOTHING;

GRANT SELECT, INSERT, UPDATE, DELETE ON tests, executions, execution_settings, system_config TO app_user;
GRANT USAGE, SELECT ON SEQUENCE tests_id_seq, executions_id_seq TO app_user;
