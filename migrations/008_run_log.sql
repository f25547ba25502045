-- Every progress line of a generation request, kept with it: History shows the run log of a
-- finished request after a restart (the GUI's log pane alone lost it).
CREATE TABLE IF NOT EXISTS run_log (
    id          BIGSERIAL PRIMARY KEY,
    request_id  VARCHAR(100) NOT NULL,    -- the root task id (agents) or the p2- request id
    at          TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    source      VARCHAR(100) NOT NULL,    -- the agent id, or "phase2"
    attempt     INTEGER NOT NULL DEFAULT 1,
    message     TEXT NOT NULL,
    data        JSONB
);
CREATE INDEX IF NOT EXISTS idx_run_log_request ON run_log(request_id, id);
GRANT SELECT, INSERT ON run_log TO app_user;
