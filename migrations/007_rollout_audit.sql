-- Who changed the rollout, from what to what, when, and how many processes saw it.
-- The Rollout panel lists it; nothing is ever updated or deleted here.
CREATE TABLE IF NOT EXISTS rollout_audit (
    id            BIGSERIAL PRIMARY KEY,
    changed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    setting       VARCHAR(50) NOT NULL,
    old_value     TEXT,
    new_value     TEXT NOT NULL,
    actor         TEXT NOT NULL,       -- user@host, pid and front end (gui, cli, api)
    acknowledged  JSONB                -- {"processes": n, "reached": n, "slowest_s": x}
);
CREATE INDEX IF NOT EXISTS idx_rollout_audit_changed ON rollout_audit(changed_at DESC);
GRANT SELECT, INSERT ON rollout_audit TO app_user;
