-- Phase 3 Initial Schema Migration
-- Safe to run on existing Phase 2 database
--
-- The four tables and indexes are the spec's, column for column. Each
-- CREATE carries IF NOT EXISTS so the file can also be run by hand with
-- psql more than once; the app's runner applies it once and records it.

BEGIN;

-- Enable pgvector extension (for embeddings)
CREATE EXTENSION IF NOT EXISTS vector;

-- Create tables (order matters for foreign keys)
CREATE TABLE IF NOT EXISTS agent_registry (
    agent_id VARCHAR(100) PRIMARY KEY,
    agent_type VARCHAR(50) NOT NULL,  -- observation, requirements, analysis, evolution, orchestration, reporting
    status VARCHAR(20) NOT NULL,      -- healthy, unhealthy, shutting_down
    capabilities JSONB NOT NULL,      -- [{"name": "test_generation", "version": "1.0.0"}]
    priority INTEGER NOT NULL,
    endpoints JSONB NOT NULL,         -- {"inbox_stream": "agent:evolution_1:inbox"}
    health JSONB NOT NULL,            -- {"last_heartbeat": "2026-01-16T10:00:00Z", "active_tasks": 3}
    constraints JSONB,                -- {"max_concurrent_tasks": 5}
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_agent_type ON agent_registry(agent_type);
CREATE INDEX IF NOT EXISTS idx_agent_status ON agent_registry(status);
CREATE INDEX IF NOT EXISTS idx_agent_capabilities ON agent_registry USING GIN (capabilities);

CREATE TABLE IF NOT EXISTS working_memory (
    memory_id VARCHAR(100) PRIMARY KEY,
    agent_id VARCHAR(100) NOT NULL REFERENCES agent_registry(agent_id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    embedding VECTOR(1536),           -- pgvector extension for semantic search
    timestamp TIMESTAMP NOT NULL,
    importance FLOAT NOT NULL CHECK (importance >= 0.0 AND importance <= 1.0),
    metadata JSONB,                   -- {"conversation_id": "abc-123", "task_id": "t-456"}
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_working_memory_agent ON working_memory(agent_id);
CREATE INDEX IF NOT EXISTS idx_working_memory_timestamp ON working_memory(timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_working_memory_conversation ON working_memory USING GIN (metadata);
CREATE INDEX IF NOT EXISTS idx_working_memory_embedding ON working_memory USING ivfflat (embedding vector_cosine_ops);

CREATE TABLE IF NOT EXISTS agent_tasks (
    task_id VARCHAR(100) PRIMARY KEY,
    task_type VARCHAR(50) NOT NULL,
    payload JSONB NOT NULL,
    assigned_agent_id VARCHAR(100) REFERENCES agent_registry(agent_id),
    status VARCHAR(20) NOT NULL,      -- pending, in_progress, completed, failed
    priority INTEGER NOT NULL DEFAULT 5,
    conversation_id VARCHAR(100),
    result JSONB,
    error TEXT,
    execution_time_seconds FLOAT,
    token_usage INTEGER,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    started_at TIMESTAMP,
    completed_at TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_agent_tasks_status ON agent_tasks(status);
CREATE INDEX IF NOT EXISTS idx_agent_tasks_assigned ON agent_tasks(assigned_agent_id);
CREATE INDEX IF NOT EXISTS idx_agent_tasks_conversation ON agent_tasks(conversation_id);
CREATE INDEX IF NOT EXISTS idx_agent_tasks_type ON agent_tasks(task_type);

CREATE TABLE IF NOT EXISTS agent_metrics (
    metric_id SERIAL PRIMARY KEY,
    agent_id VARCHAR(100) NOT NULL REFERENCES agent_registry(agent_id) ON DELETE CASCADE,
    metric_type VARCHAR(50) NOT NULL,  -- tasks_completed, tasks_failed, token_usage, latency_ms
    metric_value FLOAT NOT NULL,
    metadata JSONB,
    timestamp TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS idx_agent_metrics_agent ON agent_metrics(agent_id, timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_agent_metrics_type ON agent_metrics(metric_type);

-- Grant permissions
GRANT SELECT, INSERT, UPDATE, DELETE ON agent_registry TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON working_memory TO app_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON agent_tasks TO app_user;
GRANT SELECT, INSERT, UPDATE ON agent_metrics TO app_user;
GRANT USAGE, SELECT ON SEQUENCE agent_metrics_metric_id_seq TO app_user;

-- Verify migration
DO $$
BEGIN
    ASSERT (SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'agent_registry') = 1,
           'agent_registry table not created';
    RAISE NOTICE 'Phase 3 schema migration completed successfully';
END $$;

COMMIT;
