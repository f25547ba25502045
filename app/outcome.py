"""One verdict per generation request, said the same way everywhere.

A run that kept no test used to show as "completed" with 0.0 % coverage
and a full progress bar, count as a success in the error rate and exit 0
(issue 14). The verdict is decided here, once, from the request's final
state, and the GUI's header and History, the Costs error rate, the alerts,
``/metrics`` and the CLI's exit code all take it from here:

* **completed**: tests kept and the target reached, or the existing tests
  already reach it (nothing to do);
* **partial**: tests kept, the target not reached (time or budget ran out);
* **failed**: nothing kept, or an error: the reason says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.tool_text import clean

COLOURS = {"completed": "#2e7d32", "partial": "#a35f00", "failed": "#d64545", "running": "#6b6b6b"}
EXIT_CODES = {"completed": 0, "partial": 3, "failed": 1}
LABELS = {"completed": "Completed", "partial": "Partial", "failed": "Failed", "running": "Running"}


@dataclass(frozen=True)
class Outcome:
    kind: str  # completed | partial | failed | running
    reason: str

    @property
    def colour(self) -> str:
        return COLOURS[self.kind]

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.kind, 1)

    def headline(self) -> str:
        return f"{self.label}: {self.reason}" if self.reason else self.label


def of_state(state: dict[str, Any]) -> Outcome:
    """The verdict on a request from its status (``GenerationService.status``)."""
    status = state.get("status")
    if status in ("pending", "in_progress"):
        return Outcome("running", "")
    result = state.get("result") or {}
    if status != "completed":
        if result.get("outcome") == "partial" and result.get("test_count"):  # cancelled, with tests kept
            return Outcome("partial", clean(result.get("reason") or "stopped before the end"))
        return Outcome("failed", clean(state.get("error") or "the request failed without a reason"))
    return of_result(result)


def of_result(result: dict[str, Any]) -> Outcome:
    """The verdict on a finished request's result."""
    if result.get("outcome") == "met":
        return Outcome("completed", clean(result.get("reason") or "the existing tests already reach the target"))
    if not result.get("test_count"):
        failures = result.get("failures") or []
        why = clean(failures[-1]) if failures else "the generators produced no test that passes"
        return Outcome("failed", f"no test was kept: {why}")
    if result.get("outcome") == "partial":
        return Outcome("partial", clean(result.get("reason") or "the coverage target was not reached"))
    return Outcome("completed", clean(result.get("reason") or "target reached"))


# A request's tokens: every model call the gateway recorded for it, read when shown, so a call recorded after
# the result was written counts too (issue 26), once. Phase 2 calls are recorded under the request's id, the
# agents' under the root task and its children (a shadow request has both). ``g`` is its generation_requests row.
REQUEST_TOKENS_SQL = """
    SELECT COALESCE(sum(m.metric_value), 0)::bigint FROM agent_metrics m
     WHERE m.metric_type = 'token_usage' AND m.metadata->>'task_id' IN (
           SELECT g.request_id UNION ALL SELECT g.agent_task_id
           UNION ALL SELECT c.task_id FROM agent_tasks c
                      WHERE g.agent_task_id IS NOT NULL AND c.payload->>'root_task_id' = g.agent_task_id)
"""


# The same verdict in SQL, for figures over many requests (error rate, History's filter, /metrics):
# a request's status and result, whichever path it took, and the verdict on them.
FINISHED_SQL = """
    SELECT g.request_id, g.route, g.created_at, g.rollout_mode, g.bucket, g.rollout_percentage, g.request,
           f.status, f.result, f.secs, f.tokens,
           CASE WHEN f.status = 'failed' AND f.result->>'outcome' = 'partial'
                     AND COALESCE((f.result->>'test_count')::int, 0) > 0 THEN 'partial'
                WHEN f.status = 'failed' THEN 'failed'
                WHEN f.status <> 'completed' THEN 'running'
                WHEN f.result->>'outcome' = 'met' THEN 'completed'
                WHEN COALESCE((f.result->>'test_count')::int, 0) = 0 THEN 'failed'
                WHEN f.result->>'outcome' = 'partial' THEN 'partial'
                ELSE 'completed' END AS verdict
      FROM generation_requests g
      LEFT JOIN agent_tasks t ON t.task_id = g.agent_task_id
      CROSS JOIN LATERAL (SELECT
           COALESCE(CASE WHEN g.route = 'agents' THEN t.status END, g.status) AS status,
           CASE WHEN g.route = 'agents' THEN COALESCE(t.result, g.phase2_result) ELSE g.phase2_result END AS result,
           CASE WHEN g.route = 'agents' THEN t.execution_time_seconds ELSE g.phase2_seconds END AS secs,
           (""" + REQUEST_TOKENS_SQL + """) AS tokens) f
"""
