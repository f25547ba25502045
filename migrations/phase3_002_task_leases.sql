-- Leases and fencing for agent tasks (issue 12).
--
-- A claim sets a fresh lease_token and lease_expires_at; the holder's lease
-- keeper renews it while the process lives. A task is taken again only once
-- its lease expired, and only the current token may complete or fail it, so
-- a holder that lost its lease cannot finish. attempts counts executions of
-- the task (not deliveries of a stream message); it bounds re-runs after crashes.
ALTER TABLE agent_tasks ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_tasks ADD COLUMN IF NOT EXISTS lease_token VARCHAR(40);
ALTER TABLE agent_tasks ADD COLUMN IF NOT EXISTS lease_expires_at TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS idx_agent_tasks_lease ON agent_tasks(lease_expires_at) WHERE status = 'in_progress';

-- Effects once: a row a handler writes carries "task:attempt:kind"; writing it
-- again in the same attempt is a no-op. NULL for rows with no task behind them.
ALTER TABLE agent_metrics ADD COLUMN IF NOT EXISTS effect_key VARCHAR(200);
CREATE UNIQUE INDEX IF NOT EXISTS idx_agent_metrics_effect ON agent_metrics(effect_key);
ALTER TABLE working_memory ADD COLUMN IF NOT EXISTS effect_key VARCHAR(200);
CREATE UNIQUE INDEX IF NOT EXISTS idx_working_memory_effect ON working_memory(effect_key);
