-- Every routed generation request: where the router sent it and why, and
-- (for Phase 2 and shadow) the Phase 2 result, for comparison with agents.
CREATE TABLE IF NOT EXISTS generation_requests (
    request_id          VARCHAR(100) PRIMARY KEY,      -- the task_id clients poll
    route               VARCHAR(20) NOT NULL CHECK (route IN ('phase2', 'agents', 'shadow')),
    rollout_mode        VARCHAR(20) NOT NULL,
    rollout_percentage  INTEGER NOT NULL,
    bucket              INTEGER NOT NULL CHECK (bucket BETWEEN 0 AND 99),
    routing_key         TEXT NOT NULL,
    reason              TEXT NOT NULL,
    conversation_id     VARCHAR(100),
    request             JSONB NOT NULL,
    agent_task_id       VARCHAR(100),
    status              VARCHAR(20) NOT NULL DEFAULT 'pending',
    phase2_result       JSONB,
    phase2_error        TEXT,
    phase2_seconds      FLOAT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at        TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS idx_generation_requests_created ON generation_requests(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_generation_requests_agent_task ON generation_requests(agent_task_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON generation_requests TO app_user;
