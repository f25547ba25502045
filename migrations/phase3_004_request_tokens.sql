-- A request's tokens are read from the gateway's rows whenever a figure is shown (app/outcome.py
-- REQUEST_TOKENS_SQL), so a call recorded after the request's result was written still counts, once,
-- in that request's figure (issue 26). These keep that read an index lookup per request.
CREATE INDEX IF NOT EXISTS idx_agent_metrics_call_task ON agent_metrics ((metadata->>'task_id'))
    WHERE metric_type = 'token_usage';
CREATE INDEX IF NOT EXISTS idx_agent_tasks_root ON agent_tasks ((payload->>'root_task_id'));
